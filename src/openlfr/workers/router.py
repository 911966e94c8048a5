"""Routes only a worker may call: sync its assignments with a heartbeat, deliver its alerts."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openlfr.alert_records import service as alerts
from openlfr.alert_records.service import AlertInput
from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.intake import upload
from openlfr.api.params import RowId
from openlfr.api.plane import ControlPlane
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.errors import Conflict, InvalidInput
from openlfr.storage.fields import RefId
from openlfr.users.roles import Permission as P
from openlfr.watchlist.images import load_reference_image
from openlfr.watchlist.rejections import ImageRejected
from openlfr.workers.hub import WorkerHub
from openlfr.workers.metrics import CONTENT_TYPE
from openlfr.workers.protocol import AlertAck, AlertDelivery, Assignments, Heartbeat

# A probe crop is a face and its margin; a preview is one redacted camera picture.
_MAX_CROP_BYTES = 2_000_000
_MAX_PREVIEW_BYTES = 4_000_000
_JPEG = {b"\xff\xd8\xff": "JPEG"}
# Crops are PNG (lossless, as sealed evidence); JPEG is accepted too.
_CROP_FORMATS = {b"\x89PNG\r\n\x1a\n": "PNG", **_JPEG}

router = APIRouter(tags=["workers"])
Worker = Annotated[Caller, need(P.WORKERS_SYNC)]
Reader = Annotated[Caller, need(P.DEPLOYMENTS_READ)]


class WorkerRead(BaseModel):
    """A worker as last heard from: its health, cameras and spool (counts only)."""

    name: str
    seconds_since_heard: float
    heartbeat: Heartbeat


class CameraAlarm(BaseModel):
    deployment_id: int
    camera: str
    state: str
    error: str | None


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heartbeat: Heartbeat
    held: list[RefId] = Field(
        default_factory=list, description="Deployments the worker holds anything for."
    )


def _hub(plane: ControlPlane) -> WorkerHub:
    if plane.worker_hub is None:
        raise Conflict("this hub runs no workers", code="no_workers")
    return plane.worker_hub


@router.get("/workers", response_model=list[WorkerRead])
def list_workers(caller: Reader, plane: Plane) -> list[WorkerRead]:
    """Every worker this hub has heard from, with its last heartbeat."""
    if plane.worker_hub is None:
        return []
    now = plane.worker_hub.now()
    return [
        WorkerRead(name=w.name, seconds_since_heard=now - w.heard_at, heartbeat=w.heartbeat)
        for w in plane.worker_hub.workers()
    ]


@router.get("/workers/alarms", response_model=list[CameraAlarm])
def list_alarms(caller: Reader, plane: Plane) -> list[CameraAlarm]:
    """Cameras of live deployments that are stalled, failed, unassigned or whose spool is full."""
    if plane.worker_hub is None:
        return []
    return [
        CameraAlarm(deployment_id=d, camera=s.name, state=s.state, error=s.error)
        for d, s in plane.worker_hub.alarms()
    ]


@router.post("/workers/sync", response_model=Assignments)
def sync(body: SyncRequest, caller: Worker, plane: Plane, tasks: BackgroundTasks) -> Assignments:
    """Report the worker's cameras; get the deployments it should run and those closed since."""
    hub = _hub(plane)
    deployments = hub.sync(body.heartbeat)
    stale = _follow_the_database(caller.ctx.db, hub, plane, tasks)
    deployments = [d for d in deployments if d.deployment_id not in stale]
    closed: list[int] = []
    if body.held:
        rows = caller.ctx.db.execute(
            select(Deployment.id, Deployment.state).where(Deployment.id.in_(body.held))
        ).all()
        present = {dep_id: state for dep_id, state in rows}
        closed = [
            d for d in body.held if present.get(d, DeploymentState.CLOSED) == DeploymentState.CLOSED
        ]
    return Assignments(
        worker=body.heartbeat.worker,
        deployments=deployments,
        closed=closed,
        preview=hub.watched(body.heartbeat.worker),
    )


def _follow_the_database(
    db: Session, hub: WorkerHub, plane: ControlPlane, tasks: BackgroundTasks
) -> set[int]:
    """Keep what this hub offers in step with the database, whichever hub process recorded
    a start, a stop or a threshold change: the deployments it holds that are no longer live
    (returned, and left out of this answer), and live ones it does not hold, are started or
    stopped here once this request has committed; a changed threshold is offered at once
    after."""
    held = hub.held()
    rows = db.execute(
        select(Deployment.id, Deployment.state, Deployment.threshold).where(
            or_(Deployment.state == DeploymentState.LIVE, Deployment.id.in_(list(held)))
        )
    ).all()
    live = {dep_id: threshold for dep_id, state, threshold in rows if state == DeploymentState.LIVE}
    stale = set(held) - set(live)
    for dep_id in sorted(stale):
        tasks.add_task(plane.live.stop, dep_id)
    for dep_id, threshold in live.items():
        if dep_id not in held:
            tasks.add_task(plane.live.start, dep_id)
        elif held[dep_id] != threshold:
            tasks.add_task(plane.live.set_threshold, dep_id, threshold)
    return stale


@router.put("/workers/preview/{deployment_id}/{camera}", status_code=204)
@upload
async def put_preview(
    deployment_id: RowId, camera: str, request: Request, caller: Worker, plane: Plane
) -> None:
    """A watched camera's newest picture, redacted on the worker (faces not alerted blurred)."""
    hub = _hub(plane)
    data = await request.body()
    _check_picture(data, field="body", max_bytes=_MAX_PREVIEW_BYTES, formats=_JPEG, plane=plane)
    if hub.preview is not None:
        hub.preview.put_jpeg(deployment_id, camera, data)


def _scene(text: str | None, plane: ControlPlane) -> bytes | None:
    """The alert's scene thumbnail (a JPEG, obscured on the worker), checked like a crop."""
    if text is None:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise InvalidInput("the scene is not base64", field="scene") from None
    _check_picture(data, field="scene", max_bytes=_MAX_CROP_BYTES, formats=_JPEG, plane=plane)
    return data


@router.post("/workers/alerts", response_model=AlertAck)
@upload
def deliver(body: AlertDelivery, caller: Worker, plane: Plane, tasks: BackgroundTasks) -> AlertAck:
    """Store a spooled alert once: a uid stored already is acknowledged, not stored again."""
    ctx = caller.ctx
    existing = alerts.find_by_uid(ctx, body.uid)
    if existing is not None:
        _duplicate(plane)
        return AlertAck(uid=body.uid, alert_id=existing.id, duplicate=True)
    try:
        crop = base64.b64decode(body.crop, validate=True)
    except binascii.Error:
        raise InvalidInput("the crop is not base64", field="crop") from None
    _check_picture(
        crop, field="crop", max_bytes=_MAX_CROP_BYTES, formats=_CROP_FORMATS, plane=plane
    )
    item = AlertInput(
        deployment_id=body.deployment_id,
        camera=body.camera,
        subject_id=body.subject_id,
        score=body.score,
        track_id=body.track_id,
        captured_at=body.captured_at,
        crop=crop,
        uid=body.uid,
        scene=_scene(body.scene, plane),
    )
    try:
        with ctx.db.begin_nested():
            alert = alerts.ingest(
                ctx,
                item,
                mqtt_enabled=plane.recorder.mqtt_enabled,
                episode_window=plane.recorder.episode_window,
            )
    except IntegrityError:
        # Another delivery of the same uid committed first (PostgreSQL; SQLite serialises).
        again = alerts.find_by_uid(ctx, body.uid)
        if again is None:
            raise
        _duplicate(plane)
        return AlertAck(uid=body.uid, alert_id=again.id, duplicate=True)
    # Background tasks run after the request's transaction has committed.
    tasks.add_task(plane.recorder.announce, alert)
    if plane.worker_hub is not None:
        tasks.add_task(_stored, plane.worker_hub, body.captured_at)
    return AlertAck(uid=body.uid, alert_id=alert.id, duplicate=False)


def _check_picture(
    data: bytes, *, field: str, max_bytes: int, formats: dict[bytes, str], plane: ControlPlane
) -> None:
    """Refuse a picture that is not a well-formed image of ``formats`` within the limits (422).

    A worker's crops and previews are shown to operators and sealed as
    evidence, so a damaged or crafted file (a stolen worker token is enough to
    send one) is refused here rather than stored or decoded later.
    """
    if not any(data.startswith(signature) for signature in formats):
        raise InvalidInput(
            f"the picture is refused: a worker sends it as {' or '.join(formats.values())}",
            field=field,
            code="image_rejected",
        )
    limits = plane.services.settings.enrolment
    try:
        load_reference_image(data, max_bytes=max_bytes, max_pixels=limits.max_pixels)
    except ImageRejected as exc:
        raise InvalidInput(
            f"the picture is refused: {exc.message}", field=field, code="image_rejected"
        ) from None


def _duplicate(plane: ControlPlane) -> None:
    if plane.worker_hub is not None:
        plane.worker_hub.metrics.deliveries.labels(outcome="duplicate").inc()


def _stored(hub: WorkerHub, captured_at: datetime) -> None:
    hub.metrics.deliveries.labels(outcome="stored").inc()
    hub.metrics.capture_to_stored.observe(max(0.0, time.time() - captured_at.timestamp()))


@router.get("/metrics", response_class=Response)
def metrics(caller: Reader, plane: Plane) -> Response:
    """The hub's metrics in the Prometheus text format (counts only, no face data)."""
    if plane.worker_hub is None:
        return Response(b"", media_type=CONTENT_TYPE)
    plane.worker_hub.refresh_metrics()
    return Response(plane.worker_hub.metrics.render(), media_type=CONTENT_TYPE)
