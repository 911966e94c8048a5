"""Routes for the alert queue: live stream (SSE), list, detail, probe crop, adjudication, hold."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from openlfr.alert_records import service
from openlfr.alert_records.models import AdjudicationCreate, AlertRead, AlertRecord, HoldRequest
from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import QueryRowId, RowId
from openlfr.api.plane import ControlPlane
from openlfr.api.watch import CredentialWatch
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.notify.feed import Seen
from openlfr.notify.messages import AlertMessage
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.fields import DB_INT_MAX
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["alerts"])
Reader = Annotated[Caller, need(P.ALERTS_READ)]
CropViewer = Annotated[Caller, need(P.ALERT_CROPS_VIEW)]
Adjudicator = Annotated[Caller, need(P.ALERTS_ADJUDICATE)]
Holder = Annotated[Caller, need(P.ALERTS_HOLD)]

KEEPALIVE_S = 15.0
REPLAY_LIMIT = 500


def _sse(message: AlertMessage) -> bytes:
    return f"id: {message.id}\nevent: alert\ndata: {message.model_dump_json()}\n\n".encode()


def _replay(
    plane: ControlPlane, actor: Actor, deployment_id: int | None, after: int
) -> list[AlertMessage]:
    with plane.database.session() as db:
        ctx = Ctx(db=db, actor=actor, now=plane.clock.now(), blobs=plane.blobs)
        rows, _ = service.list_alerts(
            ctx, offset=0, limit=REPLAY_LIMIT, deployment_id=deployment_id, after_id=after
        )
        return [AlertMessage.of(a) for a in rows]


async def _events(
    plane: ControlPlane, actor: Actor, deployment_id: int | None, after: int | None
) -> AsyncIterator[bytes]:
    sub = plane.broker.subscribe(deployment_id)
    watch = CredentialWatch(plane, actor.credential)
    quiet_since = time.monotonic()
    try:
        yield b"retry: 3000\n\n"
        # Ids already sent, not just the highest: on PostgreSQL, and with several hub
        # processes, an alert with a lower id can commit (and arrive) after a higher one.
        sent = Seen(after or 0)
        if after is not None:
            # Everything stored since the client's last event, before anything live.
            for stored in await run_in_threadpool(_replay, plane, actor, deployment_id, after):
                if sent.first(stored.id):
                    yield _sse(stored)
        while True:
            try:
                message = await asyncio.wait_for(sub.queue.get(), watch.interval_s)
            except TimeoutError:
                if not await watch.still_valid():
                    return  # logged out, revoked or disabled: the stream ends
                if time.monotonic() - quiet_since >= KEEPALIVE_S:
                    quiet_since = time.monotonic()
                    yield b": keepalive\n\n"
                continue
            if not await watch.still_valid():
                return
            if message is None:  # server shutting down, or this client fell behind
                return
            if sent.first(message.id):
                quiet_since = time.monotonic()
                yield _sse(message)
    finally:
        plane.broker.unsubscribe(sub)


@router.get(
    "/alerts/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
def stream(
    caller: Reader,
    plane: Plane,
    deployment_id: Annotated[
        int | None, Query(ge=1, le=DB_INT_MAX, description="Only this deployment.")
    ] = None,
    since_id: Annotated[
        int | None,
        Query(ge=0, le=DB_INT_MAX, description="Replay stored alerts after this id first."),
    ] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=DB_INT_MAX)] = None,
) -> StreamingResponse:
    """New alerts as server-sent events (``event: alert``, ``id`` = alert id, JSON data).

    Reconnecting with ``Last-Event-ID`` (browsers do it by themselves) replays
    whatever was stored meanwhile, so a dropped connection loses nothing.
    """
    audit.record(
        caller.ctx,
        Action.ALERT_STREAM_OPENED,
        entity_type=service.ENTITY,
        deployment_id=deployment_id,
        details={"since_id": last_event_id if last_event_id is not None else since_id},
    )
    after = last_event_id if last_event_id is not None else since_id
    return StreamingResponse(
        _events(plane, caller.ctx.actor, deployment_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/alerts", response_model=Page[AlertRead])
def list_alerts(
    caller: Reader,
    page: Paging,
    deployment_id: QueryRowId = None,
    pending: Annotated[bool, Query(description="Only alerts not yet adjudicated.")] = False,
) -> Page[AlertRead]:
    """Alerts, newest first. Audited."""
    rows, total = service.list_alerts(
        caller.ctx,
        offset=page.offset,
        limit=page.limit,
        deployment_id=deployment_id,
        pending_only=pending,
    )
    return Page(
        items=[AlertRead.model_validate(a) for a in rows],
        total=total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/alerts/{alert_id}", response_model=AlertRead)
def get_alert(alert_id: RowId, caller: Reader) -> AlertRecord:
    return service.get(caller.ctx, alert_id)


@router.get(
    "/alerts/{alert_id}/crop",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}, "description": "The probe crop's bytes."}},
)
def alert_crop(alert_id: RowId, caller: CropViewer) -> Response:
    """The live face crop that raised the alert. Every view is audited."""
    alert, data = service.crop(caller.ctx, alert_id)
    return Response(
        content=data,
        media_type=alert.crop_media_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/alerts/{alert_id}/adjudication", response_model=AlertRead, status_code=201)
def adjudicate(
    alert_id: RowId, body: AdjudicationCreate, caller: Adjudicator, plane: Plane
) -> AlertRecord:
    """The operator's decision and outcome; recorded once, with who and when. Once the
    deployment's record is published, only as an amendment with ``amendment_reason``
    (409 ``record_published`` without)."""
    return service.adjudicate(caller.ctx, alert_id, body, policy=plane.settings.governance)


@router.post("/alerts/{alert_id}/hold", response_model=AlertRead)
def hold(alert_id: RowId, body: HoldRequest, caller: Holder, plane: Plane) -> AlertRecord:
    """Place on (or release from) legal hold: a held alert outlives the retention period."""
    return service.set_hold(
        caller.ctx, alert_id, hold=body.hold, reason=body.reason, policy=plane.settings.governance
    )
