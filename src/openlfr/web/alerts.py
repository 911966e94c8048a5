"""The live alert queue: page, one card per alert, claims ("taken") and two-click decisions.

New alerts reach the page through the API's own stream (``/api/v1/alerts/stream``);
this module adds what only consoles need: the card fragment (live crop beside the
watchlist photo), claims, and a stream of claim and decision events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from openlfr.alert_records import service as alert_service
from openlfr.alert_records.models import AdjudicationCreate, AlertRead, AlertRecord
from openlfr.api.auth import Caller, need
from openlfr.api.params import QueryRowId, RowId
from openlfr.api.plane import ControlPlane
from openlfr.api.watch import CredentialWatch
from openlfr.deployments import service as deployments
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict
from openlfr.users.roles import Permission as P
from openlfr.watchlist_records.models import ReferenceImage, Subject
from openlfr.web.access import Page
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.live import ClaimRead, ConsoleHub, sse
from openlfr.web.render import render

router = APIRouter()
QueueViewer = Annotated[Viewer, viewer_of(Page.ALERTS)]
Adjudicator = Annotated[Caller, need(P.ALERTS_ADJUDICATE)]
Reader = Annotated[Caller, need(P.ALERTS_READ)]

QUEUE_LIMIT = 50
HISTORY_LIMIT = 10
REFERENCE_PHOTOS = 3
KEEPALIVE_S = 15.0


def hub_of(request: Request) -> ConsoleHub:
    hub = request.app.state.hub
    assert isinstance(hub, ConsoleHub)
    return hub


def plane_of(request: Request) -> ControlPlane:
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    return plane


@dataclass(frozen=True, slots=True)
class AlertCard:
    """Everything one card shows: the alert, who it may be, where it was seen."""

    alert: AlertRecord
    subject: Subject | None
    photos: list[ReferenceImage]
    deployment: Deployment
    claim: ClaimRead | None

    @property
    def margin(self) -> float:
        return self.alert.score - self.alert.threshold


def _card(ctx: Ctx, alert: AlertRecord, claims: dict[int, ClaimRead]) -> AlertCard:
    subject = None if alert.subject_id is None else ctx.db.get(Subject, alert.subject_id)
    photos = [] if subject is None else list(subject.images[:REFERENCE_PHOTOS])
    return AlertCard(
        alert=alert,
        subject=subject,
        photos=photos,
        deployment=deployments.get(ctx, alert.deployment_id),
        claim=claims.get(alert.id),
    )


@router.get("/alerts", response_class=HTMLResponse)
def queue_page(
    request: Request,
    viewer: QueueViewer,
    deployment_id: QueryRowId = None,
) -> Response:
    """Pending alerts, newest first, and the last few decided; new ones arrive live."""
    ctx = viewer.caller.ctx
    claims = {c.alert_id: c for c in hub_of(request).claims(ctx.db)}
    pending, total = alert_service.list_alerts(
        ctx, offset=0, limit=QUEUE_LIMIT, deployment_id=deployment_id, pending_only=True
    )
    recent, _ = alert_service.list_alerts(
        ctx, offset=0, limit=HISTORY_LIMIT + QUEUE_LIMIT, deployment_id=deployment_id
    )
    decided = [a for a in recent if a.adjudication is not None][:HISTORY_LIMIT]
    live = list(
        ctx.db.execute(
            select(Deployment)
            .where(Deployment.state == DeploymentState.LIVE)
            .order_by(Deployment.id)
        ).scalars()
    )
    newest = max((a.id for a in recent), default=0)
    return render(
        request,
        "alerts.html",
        viewer,
        title="Alert queue",
        cards=[_card(ctx, a, claims) for a in pending],
        pending_total=total,
        decided=decided,
        live=live,
        deployment_id=deployment_id,
        since_id=newest,
    )


@router.get("/alerts/{alert_id}/card", response_class=HTMLResponse)
def card_fragment(request: Request, alert_id: RowId, viewer: QueueViewer) -> Response:
    """One alert's card, for the queue to insert when the alert arrives (audited read)."""
    ctx = viewer.caller.ctx
    alert = alert_service.get(ctx, alert_id)
    claims = {c.alert_id: c for c in hub_of(request).claims(ctx.db)}
    return render(
        request,
        "_alert_card.html",
        viewer,
        title="Alert",
        card=_card(ctx, alert, claims),
    )


@router.post("/api/alerts/{alert_id}/claim", response_model=ClaimRead)
def claim(
    request: Request,
    alert_id: RowId,
    caller: Adjudicator,
    tasks: BackgroundTasks,
    force: Annotated[bool, Query(description="Take over from another operator.")] = False,
) -> ClaimRead:
    """Take an alert to decide it; the other consoles (on every hub process) show it as
    taken, and refuse it to anyone else until it is released, decided or lapses."""
    alert = alert_service.get(caller.ctx, alert_id, audited=False)
    if alert.adjudication is not None:
        raise Conflict(
            f"alert {alert_id} was already decided by {alert.adjudication.decided_by}",
            code="already_adjudicated",
        )
    assert caller.user is not None
    hub = hub_of(request)
    taken, stored = hub.claim(
        caller.ctx.db,
        alert_id,
        user_id=caller.user.id,
        username=caller.user.username,
        display_name=caller.user.person,
        force=force,
    )
    # Background tasks run after the response, i.e. after the transaction committed.
    tasks.add_task(hub.announce, stored)
    return taken


@router.delete("/api/alerts/{alert_id}/claim", status_code=204)
def release(
    request: Request, alert_id: RowId, caller: Adjudicator, tasks: BackgroundTasks
) -> Response:
    """Give the alert back to the queue (the operator cancelled)."""
    assert caller.user is not None
    hub = hub_of(request)
    stored = hub.release(caller.ctx.db, alert_id, user_id=caller.user.id)
    if stored is not None:
        tasks.add_task(hub.announce, stored)
    return Response(status_code=204)


@router.post("/api/alerts/{alert_id}/decision", response_model=AlertRead, status_code=201)
def decide(
    request: Request,
    alert_id: RowId,
    body: AdjudicationCreate,
    caller: Adjudicator,
    tasks: BackgroundTasks,
) -> AlertRecord:
    """Record the decision and outcome (the alert service stores and audits it); every
    console drops the alert from its queue once it is committed."""
    alert = alert_service.adjudicate(
        caller.ctx, alert_id, body, policy=plane_of(request).settings.governance
    )
    hub = hub_of(request)
    stored = hub.settled(
        caller.ctx.db,
        alert_id,
        decision=str(body.decision),
        outcome=None if body.outcome is None else str(body.outcome),
        by=caller.user.person if caller.user else caller.ctx.actor.label,
    )
    # Background tasks run after the response, i.e. after the transaction committed.
    tasks.add_task(hub.announce, stored)
    return alert


async def _events(hub: ConsoleHub, watch: CredentialWatch) -> AsyncIterator[bytes]:
    listener = hub.listen()
    quiet_since = time.monotonic()
    try:
        yield b"retry: 2000\n\n"
        yield sse(await run_in_threadpool(hub.snapshot))
        while True:
            try:
                event = await asyncio.wait_for(listener.queue.get(), watch.interval_s)
            except TimeoutError:
                if not await watch.still_valid():
                    return  # signed out, or the account was disabled
                if time.monotonic() - quiet_since >= KEEPALIVE_S:
                    quiet_since = time.monotonic()
                    yield b": keepalive\n\n"
                continue
            if not await watch.still_valid():
                return
            if event is None:
                return
            quiet_since = time.monotonic()
            yield sse(event)
    finally:
        hub.unlisten(listener)


@router.get("/api/events", response_class=StreamingResponse)
def events(request: Request, caller: Reader) -> StreamingResponse:
    """Claims and decisions as server-sent events (the current claims first)."""
    return StreamingResponse(
        _events(hub_of(request), CredentialWatch(plane_of(request), caller.ctx.actor.credential)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
