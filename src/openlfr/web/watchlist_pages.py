"""Watchlist pages: versions (frozen ones marked in use), subjects with photos, enrolment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from openlfr.api.params import RowId
from openlfr.api.plane import ControlPlane
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.deployments.models import Deployment
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import WatchlistRead
from openlfr.web.access import Page
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()
WatchlistViewer = Annotated[Viewer, viewer_of(Page.WATCHLISTS)]
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class WatchlistRow:
    watchlist: WatchlistRead
    deployment: Deployment | None


def plane_of(request: Request) -> ControlPlane:
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    return plane


def _users_of(viewer: Viewer) -> dict[int, Deployment]:
    rows = viewer.caller.ctx.db.execute(
        select(Deployment).where(Deployment.watchlist_id.is_not(None))
    ).scalars()
    return {d.watchlist_id: d for d in rows if d.watchlist_id is not None}


@router.get("/watchlists", response_class=HTMLResponse)
def watchlists_page(request: Request, viewer: WatchlistViewer) -> Response:
    ctx = viewer.caller.ctx
    rows, total = watchlists.list_versions(ctx, offset=0, limit=LIST_LIMIT)
    used = _users_of(viewer)
    items = [WatchlistRow(watchlists.read(ctx, w), used.get(w.id)) for w in reversed(rows)]
    return render(request, "watchlists.html", viewer, title="Watchlists", rows=items, total=total)


@router.get("/watchlists/{watchlist_id}", response_class=HTMLResponse)
def watchlist_page(request: Request, watchlist_id: RowId, viewer: WatchlistViewer) -> Response:
    """One version: who is on it and each photo's provenance. Audited like the API's read."""
    ctx = viewer.caller.ctx
    wl = watchlists.get(ctx, watchlist_id)
    audit.record(
        ctx,
        Action.WATCHLIST_READ,
        entity_type=watchlists.ENTITY,
        entity_id=wl.id,
        details={"subjects": len(wl.subjects), "via": "console"},
    )
    governance = plane_of(request).settings.governance
    return render(
        request,
        "watchlist.html",
        viewer,
        title=f"Watchlist {wl.name} v{wl.version}",
        wl=watchlists.read(ctx, wl),
        subjects=list(wl.subjects),
        deployment=_users_of(viewer).get(wl.id),
        categories=list(governance.offence_categories),
        default_expiry_days=governance.subject_default_expiry_days,
        now=ctx.now,
    )
