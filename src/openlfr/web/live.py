"""Who is handling which alert right now, told to every open console as server-sent events.

An operator who starts deciding an alert *takes* it; the other consoles show it
as taken (with by whom) until it is decided, released, or the claim lapses.
Claims coordinate people; they do not lock anything: the first adjudication
stored wins, as the alert service decides.

Events (``event:`` name, JSON ``data``): ``claims`` (all current claims, sent
first on every connection, so a reconnecting console catches up), ``claim``,
``release`` and ``settled`` (an alert was decided; consoles drop it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from openlfr.storage.errors import Conflict

CLAIM_TTL_S = 180.0
QUEUE_SIZE = 256


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


class ClaimsSnapshot(BaseModel):
    type: Literal["claims"] = "claims"
    claims: list[ClaimRead]


ConsoleEvent = ClaimEvent | ReleaseEvent | SettledEvent | ClaimsSnapshot


def sse(event: ConsoleEvent) -> bytes:
    return f"event: {event.type}\ndata: {event.model_dump_json()}\n\n".encode()


@dataclass(eq=False)
class Listener:
    """One open console. ``None`` on its queue ends its stream (shutdown, or it fell behind)."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[ConsoleEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )


class ConsoleHub:
    """Claims on alerts and the fan-out of console events. Thread-safe."""

    def __init__(self, *, ttl_s: float = CLAIM_TTL_S, clock: Callable[[], float] = time.time):
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._claims: dict[int, ClaimRead] = {}
        self._listeners: set[Listener] = set()
        self._closed = False

    def claims(self) -> list[ClaimRead]:
        now = self._clock()
        with self._lock:
            for alert_id in [a for a, c in self._claims.items() if c.expires_at <= now]:
                del self._claims[alert_id]
            return sorted(self._claims.values(), key=lambda c: c.alert_id)

    def claim(
        self, alert_id: int, *, user_id: int, username: str, display_name: str, force: bool = False
    ) -> ClaimRead:
        """Take an alert (or renew one's own claim); Conflict if someone else holds it."""
        now = self._clock()
        with self._lock:
            held = self._claims.get(alert_id)
            if held is not None and held.user_id != user_id and held.expires_at > now and not force:
                raise Conflict(
                    f"alert {alert_id} is being handled by {held.display_name}", code="taken"
                )
            claim = ClaimRead(
                alert_id=alert_id,
                user_id=user_id,
                username=username,
                display_name=display_name,
                expires_at=now + self._ttl_s,
            )
            self._claims[alert_id] = claim
        self.publish(ClaimEvent(claim=claim))
        return claim

    def release(self, alert_id: int, *, user_id: int) -> bool:
        """Give an alert back; False if the caller did not hold it."""
        with self._lock:
            held = self._claims.get(alert_id)
            if held is None or held.user_id != user_id:
                return False
            del self._claims[alert_id]
        self.publish(ReleaseEvent(alert_id=alert_id))
        return True

    def settled(self, alert_id: int, *, decision: str, outcome: str | None, by: str) -> None:
        with self._lock:
            self._claims.pop(alert_id, None)
        self.publish(SettledEvent(alert_id=alert_id, decision=decision, outcome=outcome, by=by))

    def listen(self) -> Listener:
        """A new listener on the running event loop; its first event is the claims snapshot."""
        listener = Listener(asyncio.get_running_loop())
        listener.queue.put_nowait(ClaimsSnapshot(claims=self.claims()))
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


def _offer(listener: Listener, event: ConsoleEvent | None) -> None:
    try:
        listener.queue.put_nowait(event)
    except asyncio.QueueFull:
        # A console this far behind reconnects and starts again from a snapshot.
        while not listener.queue.empty():
            listener.queue.get_nowait()
        listener.queue.put_nowait(None)
