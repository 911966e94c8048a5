"""Claims on alerts ("taken"): who holds what, take-over, lapse, and the event fan-out."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from openlfr.storage.errors import Conflict
from openlfr.web.live import ClaimEvent, ClaimsSnapshot, ConsoleHub, ReleaseEvent, SettledEvent


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _claim(hub: ConsoleHub, alert: int, user: int, *, force: bool = False) -> None:
    hub.claim(alert, user_id=user, username=f"u{user}", display_name=f"User {user}", force=force)


def test_one_person_holds_an_alert_until_released_taken_over_or_lapsed() -> None:
    clock = FakeClock()
    hub = ConsoleHub(ttl_s=60, clock=clock)
    _claim(hub, 1, user=10)
    _claim(hub, 1, user=10)  # renewing one's own claim is fine
    with pytest.raises(Conflict, match="being handled by User 10") as refused:
        _claim(hub, 1, user=20)
    assert refused.value.code == "taken"
    assert not hub.release(1, user_id=20)  # only the holder gives it back
    _claim(hub, 1, user=20, force=True)  # a colleague takes over
    assert [(c.alert_id, c.user_id) for c in hub.claims()] == [(1, 20)]
    assert hub.release(1, user_id=20)
    assert hub.claims() == []
    _claim(hub, 2, user=10)
    clock.now += 61
    assert hub.claims() == []  # lapsed: someone gone quiet does not block the alert
    _claim(hub, 2, user=20)
    hub.settled(2, decision="false_alert", outcome=None, by="User 20")
    assert hub.claims() == []


def test_listeners_get_the_claims_first_then_each_change() -> None:
    async def scenario() -> list[object]:
        hub = ConsoleHub()
        _claim(hub, 5, user=1)
        listener = hub.listen()
        _claim(hub, 6, user=2)
        hub.release(6, user_id=2)
        hub.settled(5, decision="engaged", outcome="arrested", by="User 1")
        await asyncio.sleep(0)  # let the thread-safe hand-offs run
        hub.close()
        await asyncio.sleep(0)
        events = []
        while (event := await listener.queue.get()) is not None:
            events.append(event)
        hub.unlisten(listener)
        assert hub.listeners == 0
        return events

    # Its own thread: Playwright's synchronous API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        events = pool.submit(asyncio.run, scenario()).result()
    assert [type(e) for e in events] == [ClaimsSnapshot, ClaimEvent, ReleaseEvent, SettledEvent]
    first = events[0]
    assert isinstance(first, ClaimsSnapshot) and [c.alert_id for c in first.claims] == [5]
    last = events[-1]
    assert isinstance(last, SettledEvent) and last.outcome == "arrested"
