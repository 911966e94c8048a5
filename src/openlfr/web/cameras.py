"""Camera view: each live camera's privacy preview (obscured except alerted faces) and rates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from openlfr.api.auth import Caller, need
from openlfr.api.params import RowId
from openlfr.api.plane import ControlPlane
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.users.roles import Permission as P
from openlfr.web.access import Page
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.preview import PreviewHub
from openlfr.web.render import render

router = APIRouter()
CameraViewer = Annotated[Viewer, viewer_of(Page.CAMERAS)]
# The preview can show an alerted face unblurred: the same permission as alert crops.
Watcher = Annotated[Caller, need(P.ALERT_CROPS_VIEW)]


def preview_of(request: Request) -> PreviewHub:
    hub = request.app.state.preview
    assert isinstance(hub, PreviewHub)
    return hub


class CameraRatesRead(BaseModel):
    deployment_id: int
    camera: str
    state: str = Field(
        description="starting, running, reconnecting, ended, failed, stopped or "
        "'not running' when this server runs no camera of that name."
    )
    error: str | None
    fps: float
    frames: int
    dropped: int
    faces: int
    tracks: int
    alerted_tracks: int
    picture: bool
    picture_age_s: float | None


@router.get("/cameras", response_class=HTMLResponse)
def cameras_page(request: Request, viewer: CameraViewer) -> Response:
    """Every live deployment's cameras. Opening the view is audited: alerted faces show."""
    ctx = viewer.caller.ctx
    live = list(
        ctx.db.execute(
            select(Deployment)
            .where(Deployment.state == DeploymentState.LIVE)
            .order_by(Deployment.id)
        ).scalars()
    )
    for dep in live:
        audit.record(
            ctx,
            Action.CAMERA_PREVIEW_OPENED,
            entity_type="deployment",
            entity_id=dep.id,
            deployment_id=dep.id,
            details={"cameras": [c.name for c in dep.cameras]},
        )
    return render(request, "cameras.html", viewer, title="Cameras", live=live)


@router.get(
    "/api/preview/{deployment_id}/{camera}.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 204: {"description": "No fresh picture."}},
)
def preview_picture(
    request: Request, deployment_id: RowId, camera: str, caller: Watcher
) -> Response:
    """The camera's newest picture, obscured (204 when it has none from the last seconds)."""
    data = preview_of(request).jpeg(deployment_id, camera)
    if data is None:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/api/preview/{deployment_id}/{camera}", response_model=CameraRatesRead)
def preview_rates(
    request: Request, deployment_id: RowId, camera: str, caller: Watcher
) -> CameraRatesRead:
    """Frames per second, frames dropped, faces and tracks now (counts only)."""
    rates = preview_of(request).rates(deployment_id, camera)
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    live = {c.name: c for c in plane.live.status(deployment_id) or []}.get(camera)
    return CameraRatesRead(
        deployment_id=deployment_id,
        camera=camera,
        state="not running" if live is None else live.state,
        error=None if live is None else live.error,
        fps=rates.fps,
        # The source counts frames it skipped to stay current; the preview only sees gaps.
        frames=rates.frames if live is None else live.frames,
        dropped=rates.dropped if live is None else live.dropped_frames,
        faces=rates.faces,
        tracks=rates.tracks,
        alerted_tracks=rates.alerted_tracks,
        picture=rates.picture,
        picture_age_s=rates.picture_age_s,
    )
