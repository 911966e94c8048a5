"""The live alert queue: page, one card per episode, claims ("taken") and two-click decisions.

New alerts reach the page through the API's own stream (``/api/v1/alerts/stream``);
this module adds what only consoles need: the card fragment (the best live crop beside
the watchlist photo, the scene, the other looks), claims, two-person verification, and a
stream of claim, verification and decision events. A card is keyed on its episode's first
alert, so claims and queue events stay per alert.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from openlfr.alert_records import service as alert_service
from openlfr.alert_records.models import AdjudicationCreate, AlertRead, AlertRecord
from openlfr.api.auth import Caller, need
from openlfr.api.params import QueryRowId, RowId
from openlfr.api.plane import ControlPlane
from openlfr.api.watch import CredentialWatch
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.episodes import decisions
from openlfr.episodes import service as episodes
from openlfr.episodes.models import EpisodeDecision, EpisodeDetail
from openlfr.episodes.router import detail
from openlfr.episodes.service import QueueOrder
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, NotFound
from openlfr.users.roles import Permission as P
from openlfr.web import episode_cards as cards
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
KEEPALIVE_S = 15.0


def hub_of(request: Request) -> ConsoleHub:
    hub = request.app.state.hub
    assert isinstance(hub, ConsoleHub)
    return hub


def plane_of(request: Request) -> ControlPlane:
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    return plane


def _claims(request: Request, ctx: Ctx) -> dict[int, ClaimRead]:
    return {c.alert_id: c for c in hub_of(request).claims(ctx.db)}


@router.get("/alerts", response_class=HTMLResponse)
def queue_page(
    request: Request,
    viewer: QueueViewer,
    deployment_id: QueryRowId = None,
    order: Annotated[QueueOrder, Query()] = QueueOrder.WAITING,
) -> Response:
    """Waiting episodes, oldest first (or by priority), and the last few decided; new
    sightings join their card in place, new episodes join the end, live."""
    ctx = viewer.caller.ctx
    claims = _claims(request, ctx)
    pending, total = episodes.list_episodes(
        ctx,
        offset=0,
        limit=QUEUE_LIMIT,
        deployment_id=deployment_id,
        pending_only=True,
        order=order,
    )
    newest = ctx.db.execute(
        select(func.max(AlertRecord.id)).where(
            *([AlertRecord.deployment_id == deployment_id] if deployment_id else [])
        )
    ).scalar_one()
    decided = cards.recently_decided(ctx, deployment_id, HISTORY_LIMIT)
    live = list(
        ctx.db.execute(
            select(Deployment)
            .where(Deployment.state == DeploymentState.LIVE)
            .order_by(Deployment.id)
        ).scalars()
    )
    return render(
        request,
        "alerts.html",
        viewer,
        title="Alert queue",
        cards=[cards.card(ctx, ep, claims, viewer.user.id) for ep in pending],
        pending_total=total,
        decided=[cards.decided_row(ctx, ep) for ep in decided],
        live=live,
        deployment_id=deployment_id,
        order=order,
        since_id=newest or 0,
        now=ctx.now,
    )


@router.get("/alerts/{alert_id}/card", response_class=HTMLResponse)
def card_fragment(request: Request, alert_id: RowId, viewer: QueueViewer) -> Response:
    """The card of the episode an alert belongs to, for the queue to insert or update when
    the alert arrives (audited read)."""
    ctx = viewer.caller.ctx
    alert = alert_service.get(ctx, alert_id)
    if alert.episode_id is None:
        raise NotFound(f"alert {alert_id} belongs to no episode")
    ep = episodes.get(ctx, alert.episode_id)
    if ep.decided_at is not None:
        raise Conflict(f"episode {ep.id} was decided", code="already_adjudicated")
    return render(
        request,
        "_alert_card.html",
        viewer,
        title="Alert",
        card=cards.card(ctx, ep, _claims(request, ctx), viewer.user.id),
        now=ctx.now,
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


@router.post("/api/episodes/{episode_id}/decision", response_model=EpisodeDetail, status_code=201)
def decide_episode(
    request: Request,
    episode_id: RowId,
    body: EpisodeDecision,
    caller: Adjudicator,
    tasks: BackgroundTasks,
) -> EpisodeDetail:
    """One person's decision on an episode (see :mod:`openlfr.episodes.decisions`); every
    console drops the card once it is decided, or shows its new verification state."""
    ep = decisions.decide(
        caller.ctx, episode_id, body, policy=plane_of(request).settings.governance
    )
    anchor = min(a.id for a in episodes.looks(caller.ctx, ep))
    hub = hub_of(request)
    if ep.decided_at is not None:
        stored = hub.settled(
            caller.ctx.db,
            anchor,
            decision=str(body.decision),
            outcome=None if body.outcome is None else str(body.outcome),
            by=cards.decided_by(caller.ctx, ep),
        )
    else:
        stored = hub.verified(
            caller.ctx.db, anchor, episode_id=ep.id, verification=str(ep.verification)
        )
    # Background tasks run after the response, i.e. after the transaction committed.
    tasks.add_task(hub.announce, stored)
    return detail(caller.ctx, episode_id)


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
