"""In-process fan-out of stored alerts to server-sent-event streams (one queue per client)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

from openlfr.notify.messages import AlertMessage

QUEUE_SIZE = 256


@dataclass(eq=False)
class Subscription:
    """One connected client. ``lagged`` is set when it fell so far behind that it was cut
    off; it reconnects with ``Last-Event-ID`` and the gap is replayed from the database."""

    loop: asyncio.AbstractEventLoop
    deployment_id: int | None
    queue: asyncio.Queue[AlertMessage | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    lagged: bool = False


class AlertBroker:
    """Thread-safe: alerts are published from pipeline threads, read by asyncio streams.

    Only alerts already committed to the database are published, so a client
    never sees an alert that could still roll back, and the database is the
    source of truth for anything it missed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._closed = False

    def subscribe(self, deployment_id: int | None = None) -> Subscription:
        sub = Subscription(asyncio.get_running_loop(), deployment_id)
        with self._lock:
            if self._closed:
                sub.queue.put_nowait(None)
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, message: AlertMessage) -> None:
        with self._lock:
            targets = [
                s
                for s in self._subs
                if s.deployment_id is None or s.deployment_id == message.deployment_id
            ]
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(_offer, sub, message)
            except RuntimeError:  # its event loop has closed
                self.unsubscribe(sub)

    def close(self) -> None:
        """End every stream (server shutdown)."""
        with self._lock:
            self._closed = True
            subs = list(self._subs)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # its event loop has closed
                sub.loop.call_soon_threadsafe(_offer, sub, None)


def _offer(sub: Subscription, message: AlertMessage | None) -> None:
    if sub.lagged:
        return
    try:
        sub.queue.put_nowait(message)
    except asyncio.QueueFull:
        sub.lagged = True
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)
