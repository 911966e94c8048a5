"""Deployment pages: the list with the planning form, and one deployment with its actions.

The buttons and forms call the REST API; what a page offers follows the
viewer's permissions and the deployment's state, and the API refuses the rest.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from openlfr.api.params import RowId
from openlfr.api.plane import ControlPlane
from openlfr.calibrations import service as calibrations
from openlfr.deployments import evidence, legal
from openlfr.deployments import service as deployments
from openlfr.deployments.models import Deployment
from openlfr.storage.context import Ctx
from openlfr.users.people import people
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import WatchlistState, WatchlistVersion
from openlfr.web.access import Page
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()
DeploymentViewer = Annotated[Viewer, viewer_of(Page.DEPLOYMENTS)]
LIST_LIMIT = 200


def plane_of(request: Request) -> ControlPlane:
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    return plane


def _free_watchlists(viewer: Viewer) -> list[WatchlistVersion]:
    """Watchlist versions a new deployment may use: not purged, not another deployment's."""
    db = viewer.caller.ctx.db
    taken = set(
        db.execute(select(Deployment.watchlist_id).where(Deployment.watchlist_id.is_not(None)))
        .scalars()
        .all()
    )
    rows, _ = watchlists.list_versions(viewer.caller.ctx, offset=0, limit=LIST_LIMIT)
    return [w for w in rows if w.state != WatchlistState.PURGED and w.id not in taken]


@router.get("/deployments", response_class=HTMLResponse)
def deployments_page(request: Request, viewer: DeploymentViewer) -> Response:
    rows, total = deployments.list_deployments(viewer.caller.ctx, offset=0, limit=LIST_LIMIT)
    plane = plane_of(request)
    return render(
        request,
        "deployments.html",
        viewer,
        title="Deployments",
        deployments=list(reversed(rows)),
        total=total,
        free_watchlists=_free_watchlists(viewer),
        default_threshold=plane.settings.matching.threshold,
        now=plane.clock.now(),
    )


@router.get("/deployments/{deployment_id}", response_class=HTMLResponse)
def deployment_page(request: Request, deployment_id: RowId, viewer: DeploymentViewer) -> Response:
    ctx = viewer.caller.ctx
    dep = deployments.get(ctx, deployment_id)
    watchlist = None if dep.watchlist_id is None else watchlists.get(ctx, dep.watchlist_id)
    calibration = None if dep.calibration_id is None else calibrations.get(ctx, dep.calibration_id)
    evidence_problem = None if watchlist is None else evidence.problem(ctx, dep, watchlist)
    plane = plane_of(request)
    return render(
        request,
        "deployment.html",
        viewer,
        title=f"Deployment {dep.name}",
        dep=dep,
        watchlist=watchlist,
        calibration=calibration,
        evidence_problem=evidence_problem,
        free_watchlists=_free_watchlists(viewer),
        running=dep.id in plane.live.running(),
        min_reason=plane.settings.governance.min_reason_chars,
        pending=0 if dep.state == "closed" else deployments.pending_alerts(ctx, dep.id),
        who=_who(ctx, dep),
        go_live=legal.check(dep, plane.settings.authorisation),
        authorisation=plane.settings.authorisation,
    )


def _who(ctx: Ctx, dep: Deployment) -> dict[str, str]:
    """The people behind the accounts the page names (planner, authoriser, runs, close)."""
    labels = [dep.created_by, dep.authorised_by, dep.closed_by, dep.signage_confirmed_by]
    labels += [dep.authority_recorded_by, dep.authority_refused_by]
    labels += [label for r in dep.runs for label in (r.started_by, r.ended_by)]
    return people(ctx.db, labels)
