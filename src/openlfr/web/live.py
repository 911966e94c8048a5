"""Who is handling which alert right now, told to every open console as server-sent events.

An operator who starts deciding an alert *takes* it; the other consoles show it
as taken (with by whom) until it is decided, released, or the claim lapses.
Claims coordinate people; they do not lock anything: the first adjudication
stored wins, as the alert service decides.

Claims and their changes live in the database (``alert_claims``,
``queue_events``), so every hub process serving it holds the same claims: one
refuses what another has given out, and each tells its consoles what the others
changed (through :mod:`openlfr.notify.feed`).

Events (``event:`` name, JSON ``data``): ``claims`` (all current claims, sent
first on every connection, so a reconnecting console catches up), ``claim``,
``release``, ``settled`` (an alert was decided; consoles drop it) and ``verify`` (an
episode's two-person verification moved on; consoles show its new state).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openlfr.alert_records.claims import AlertClaim, QueueEvent
from openlfr.alert_records.models import AlertRecord
from openlfr.notify.feed import Follow, Seen, signal
from openlfr.storage.engine import Database
from openlfr.storage.errors import Conflict

CLAIM_TTL_S = 180.0
QUEUE_SIZE = 256
QUEUE_CHANNEL = "openlfr_queue"
# Long enough for any hub process to have read a change; short enough to stay a few rows.
EVENT_KEEP_S = 600.0


class ClaimRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert_id: int
    user_id: int
    username: str
    display_name: str
    expires_at: float  # seconds since the epoch


class ClaimEvent(BaseModel):
    type: Literal["claim"] = "claim"
    claim: ClaimRead


class ReleaseEvent(BaseModel):
    type: Literal["release"] = "release"
    alert_id: int


class SettledEvent(BaseModel):
    type: Literal["settled"] = "settled"
    alert_id: int
    decision: str
    outcome: str | None
    by: str


class VerifyEvent(BaseModel):
    """Two-person verification of the episode anchored on ``alert_id`` changed."""

    type: Literal["verify"] = "verify"
    alert_id: int
    episode_id: int
    verification: str


class ClaimsSnapshot(BaseModel):
    type: Literal["claims"] = "claims"
    claims: list[ClaimRead]


ConsoleEvent = ClaimEvent | ReleaseEvent | SettledEvent | VerifyEvent | ClaimsSnapshot
_STORED_EVENT: TypeAdapter[ClaimEvent | ReleaseEvent | SettledEvent | VerifyEvent] = TypeAdapter(
    Annotated[ClaimEvent | ReleaseEvent | SettledEvent | VerifyEvent, Field(discriminator="type")]
)


def sse(event: ConsoleEvent) -> bytes:
    return f"event: {event.type}\ndata: {event.model_dump_json()}\n\n".encode()


@dataclass(frozen=True, slots=True)
class Stored:
    """A change written in a unit of work, to tell this process's consoles once it commits."""

    id: int
    event: ClaimEvent | ReleaseEvent | SettledEvent | VerifyEvent


@dataclass(eq=False)
class Listener:
    """One open console. ``None`` on its queue ends its stream (shutdown, or it fell behind)."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[ConsoleEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )


class ConsoleHub:
    """Claims on alerts (in the database) and the fan-out of console events. Thread-safe.

    Changes are written in the caller's unit of work (``db``) and returned as
    :class:`Stored`; once that has committed, :meth:`announce` tells this
    process's consoles. Other processes' changes arrive through :meth:`follow`.
    """

    def __init__(
        self,
        database: Database,
        *,
        ttl_s: float = CLAIM_TTL_S,
        clock: Callable[[], float] = time.time,
    ):
        self._database = database
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: set[Listener] = set()
        self._closed = False
        self._seen = Seen()

    def follow(self) -> Follow:
        """What a :class:`~openlfr.notify.feed.HubFeed` needs to bring other processes' changes."""
        return Follow(QueueEvent.__tablename__, QUEUE_CHANNEL, self._seen, self._from_feed)

    # -- claims ----------------------------------------------------------------------------

    def claims(self, db: Session) -> list[ClaimRead]:
        """Claims that have not lapsed, by alert id."""
        rows = db.execute(
            select(AlertClaim)
            .where(AlertClaim.expires_at > self._clock())
            .order_by(AlertClaim.alert_id)
        ).scalars()
        return [_read(c) for c in rows]

    def snapshot(self) -> ClaimsSnapshot:
        """The current claims, read in a unit of work of its own."""
        with self._database.session() as db:
            return ClaimsSnapshot(claims=self.claims(db))

    def claim(
        self,
        db: Session,
        alert_id: int,
        *,
        user_id: int,
        username: str,
        display_name: str,
        force: bool = False,
    ) -> tuple[ClaimRead, Stored]:
        """Take an alert (or renew one's own claim); Conflict if someone else holds it."""
        now = self._clock()
        # Claimers of one alert wait for each other on the alert's row, on every hub process.
        db.execute(select(AlertRecord.id).where(AlertRecord.id == alert_id).with_for_update())
        held = db.get(AlertClaim, alert_id, populate_existing=True)
        if held is not None and held.user_id != user_id and held.expires_at > now and not force:
            raise Conflict(
                f"alert {alert_id} is being handled by {held.display_name}", code="taken"
            )
        if held is None:
            held = AlertClaim(alert_id=alert_id)
            db.add(held)
        held.user_id, held.username, held.display_name = user_id, username, display_name
        held.expires_at = now + self._ttl_s
        claim = _read(held)
        return claim, self._append(db, alert_id, ClaimEvent(claim=claim))

    def release(self, db: Session, alert_id: int, *, user_id: int) -> Stored | None:
        """Give an alert back; None if the caller did not hold it."""
        db.execute(select(AlertRecord.id).where(AlertRecord.id == alert_id).with_for_update())
        held = db.get(AlertClaim, alert_id, populate_existing=True)
        if held is None or held.user_id != user_id:
            return None
        db.delete(held)
        return self._append(db, alert_id, ReleaseEvent(alert_id=alert_id))

    def settled(
        self, db: Session, alert_id: int, *, decision: str, outcome: str | None, by: str
    ) -> Stored:
        """The alert was decided (in this unit of work): its claim ends, consoles drop it."""
        db.execute(delete(AlertClaim).where(AlertClaim.alert_id == alert_id))
        event = SettledEvent(alert_id=alert_id, decision=decision, outcome=outcome, by=by)
        return self._append(db, alert_id, event)

    def verified(self, db: Session, alert_id: int, *, episode_id: int, verification: str) -> Stored:
        """An episode's engagement was proposed or confirmed (in this unit of work)."""
        event = VerifyEvent(alert_id=alert_id, episode_id=episode_id, verification=verification)
        return self._append(db, alert_id, event)

    def _append(
        self,
        db: Session,
        alert_id: int,
        event: ClaimEvent | ReleaseEvent | SettledEvent | VerifyEvent,
    ) -> Stored:
        now = self._clock()
        row = QueueEvent(alert_id=alert_id, body=event.model_dump_json(), at=now)
        db.add(row)
        db.flush()
        # Never the newest: its id is where the next one counts from.
        db.execute(
            delete(QueueEvent).where(QueueEvent.at < now - EVENT_KEEP_S, QueueEvent.id < row.id)
        )
        signal(db, QUEUE_CHANNEL, row.id)
        return Stored(row.id, event)

    def announce(self, stored: Stored) -> None:
        """Tell this process's consoles of a change that has committed (once)."""
        if self._seen.first(stored.id):
            self.publish(stored.event)

    def _from_feed(self, db: Session, ids: list[int]) -> None:
        rows = db.execute(
            select(QueueEvent).where(QueueEvent.id.in_(ids)).order_by(QueueEvent.id)
        ).scalars()
        for row in rows:
            if self._seen.first(row.id):
                self.publish(_STORED_EVENT.validate_json(row.body))

    # -- consoles --------------------------------------------------------------------------

    def listen(self) -> Listener:
        """A new listener on the running event loop. Send it :meth:`snapshot` first: read
        after it is listening, so no change falls between the two."""
        listener = Listener(asyncio.get_running_loop())
        with self._lock:
            if self._closed:
                listener.queue.put_nowait(None)
            self._listeners.add(listener)
        return listener

    def unlisten(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def publish(self, event: ConsoleEvent) -> None:
        with self._lock:
            targets = list(self._listeners)
        for listener in targets:
            try:
                listener.loop.call_soon_threadsafe(_offer, listener, event)
            except RuntimeError:  # its event loop has closed
                self.unlisten(listener)

    def close(self) -> None:
        """End every stream (server shutdown)."""
        with self._lock:
            self._closed = True
            targets = list(self._listeners)
        for listener in targets:
            with contextlib.suppress(RuntimeError):
                listener.loop.call_soon_threadsafe(_offer, listener, None)


def _read(claim: AlertClaim) -> ClaimRead:
    return ClaimRead(
        alert_id=claim.alert_id,
        user_id=claim.user_id,
        username=claim.username,
        display_name=claim.display_name,
        expires_at=claim.expires_at,
    )


def _offer(listener: Listener, event: ConsoleEvent | None) -> None:
    try:
        listener.queue.put_nowait(event)
    except asyncio.QueueFull:
        # A console this far behind reconnects and starts again from a snapshot.
        while not listener.queue.empty():
            listener.queue.get_nowait()
        listener.queue.put_nowait(None)
