"""The queue shared through the database: claims held across hub processes, and the feed that
brings each process what the others stored (PostgreSQL LISTEN/NOTIFY, SQLite polling)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from openlfr.alert_records.models import AlertRecord
from openlfr.api.testing import EXAMPLES, Api, Scenario, alert_input, live_scenario, probe_crop
from openlfr.notify.feed import ALERTS_CHANNEL, Follow, HubFeed, Seen
from openlfr.storage.engine import Database
from openlfr.storage.errors import Conflict
from openlfr.web.live import (
    ClaimEvent,
    ClaimsSnapshot,
    ConsoleHub,
    ReleaseEvent,
    SettledEvent,
    Stored,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scenario(api: Api, shared_data: Path) -> tuple[Scenario, bytes]:
    photos = shared_data / EXAMPLES
    s = live_scenario(api, [photos / "obama_01.jpg"])
    return s, probe_crop(api.plane.services.pack, photos / "obama_02.jpg")


def _alerts(api: Api, scenario: tuple[Scenario, bytes], n: int) -> list[int]:
    s, crop = scenario
    record = api.plane.recorder.record
    return [
        record(alert_input(s.deployment_id, s.camera, s.subject_id, crop, track_id=str(t))).id
        for t in range(n)
    ]


def _claim(
    database: Database, hub: ConsoleHub, alert: int, user: int, *, force: bool = False
) -> Stored:
    with database.session() as db:
        _, stored = hub.claim(
            db, alert, user_id=user, username=f"u{user}", display_name=f"User {user}", force=force
        )
    return stored


def _wait(check: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.02)


def test_a_claim_made_through_one_hub_process_holds_on_another(
    api: Api, scenario: tuple[Scenario, bytes]
) -> None:
    first, second = _alerts(api, scenario, 2)
    database = api.plane.database
    clock = FakeClock()
    # Two hub processes' worth of state: they share nothing but the database.
    hub_a = ConsoleHub(database, ttl_s=60, clock=clock)
    hub_b = ConsoleHub(database, ttl_s=60, clock=clock)
    _claim(database, hub_a, first, user=10)
    _claim(database, hub_a, first, user=10)  # renewing one's own claim is fine
    with pytest.raises(Conflict, match="being handled by User 10") as refused:
        _claim(database, hub_b, first, user=20)
    assert refused.value.code == "taken"
    with database.session() as db:
        assert [(c.alert_id, c.user_id) for c in hub_b.claims(db)] == [(first, 10)]
        assert hub_b.release(db, first, user_id=20) is None  # only the holder gives it back
    _claim(database, hub_b, first, user=20, force=True)  # a colleague takes over
    with database.session() as db:
        assert [(c.alert_id, c.user_id) for c in hub_a.claims(db)] == [(first, 20)]
        assert hub_a.release(db, first, user_id=20) is not None
    with database.session() as db:
        assert hub_b.claims(db) == []
    _claim(database, hub_a, second, user=10)
    clock.now += 61
    with database.session() as db:
        assert hub_b.claims(db) == []  # lapsed: someone gone quiet does not block the alert
    _claim(database, hub_b, second, user=20)
    with database.session() as db:
        hub_a.settled(db, second, decision="false_alert", outcome=None, by="User 20")
    with database.session() as db:
        assert hub_b.claims(db) == []


def test_a_refused_claim_leaves_nothing_behind(api: Api, scenario: tuple[Scenario, bytes]) -> None:
    (alert,) = _alerts(api, scenario, 1)
    database = api.plane.database
    hub = ConsoleHub(database)
    _claim(database, hub, alert, user=1)
    with pytest.raises(Conflict):
        _claim(database, hub, alert, user=2)
    with database.session() as db:
        bodies = db.execute(text("SELECT body FROM queue_events ORDER BY id")).scalars().all()
    assert len(bodies) == 1 and '"user_id":1' in bodies[0]


def _listen_scenario(hub: ConsoleHub, changes: Callable[[], None], expected: int) -> list[object]:
    async def scenario() -> list[object]:
        listener = hub.listen()
        events: list[object] = [hub.snapshot()]
        changes()
        while len(events) < expected + 1:
            event = await asyncio.wait_for(listener.queue.get(), 20)
            assert event is not None
            events.append(event)
        hub.unlisten(listener)
        assert hub.listeners == 0
        return events

    # Its own thread: Playwright's synchronous API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario()).result()


def test_listeners_get_the_claims_first_then_each_change_once(
    api: Api, scenario: tuple[Scenario, bytes]
) -> None:
    five, six = _alerts(api, scenario, 2)
    database = api.plane.database
    hub = ConsoleHub(database)
    hub.announce(_claim(database, hub, five, user=1))

    def changes() -> None:
        stored = _claim(database, hub, six, user=2)
        hub.announce(stored)
        hub.announce(stored)  # told twice, heard once
        with database.session() as db:
            released = hub.release(db, six, user_id=2)
        assert released is not None
        hub.announce(released)
        with database.session() as db:
            settled = hub.settled(db, five, decision="engaged", outcome="arrested", by="User 1")
        hub.announce(settled)

    events = _listen_scenario(hub, changes, 3)
    assert [type(e) for e in events] == [ClaimsSnapshot, ClaimEvent, ReleaseEvent, SettledEvent]
    first = events[0]
    assert isinstance(first, ClaimsSnapshot) and [c.alert_id for c in first.claims] == [five]
    last = events[-1]
    assert isinstance(last, SettledEvent) and last.outcome == "arrested"


@pytest.fixture
def feed(api: Api) -> Iterator[Callable[..., HubFeed]]:
    """A second process's feed on the API's database (started by the test)."""
    feeds: list[HubFeed] = []

    def make(**kw: float) -> HubFeed:
        f = HubFeed(api.plane.database, **kw)
        feeds.append(f)
        return f

    yield make
    for f in feeds:
        f.stop()


def _follow_alerts(feed: HubFeed) -> list[int]:
    heard: list[int] = []
    seen = Seen()

    def deliver(db: Session, ids: list[int]) -> None:
        rows = db.execute(select(AlertRecord.id).where(AlertRecord.id.in_(ids))).scalars()
        heard.extend(i for i in rows if seen.first(i))

    feed.follow(Follow(AlertRecord.__tablename__, ALERTS_CHANNEL, seen, deliver))
    return heard


def test_another_process_hears_each_stored_alert_and_queue_change_once(
    api: Api, scenario: tuple[Scenario, bytes], feed: Callable[..., HubFeed]
) -> None:
    before = _alerts(api, scenario, 1)
    other = feed(poll_s=0.1)
    heard = _follow_alerts(other)
    database = api.plane.database
    hub_a, hub_b = ConsoleHub(database), ConsoleHub(database)
    other.follow(hub_b.follow())
    other.start()
    if database.dialect == "postgresql":
        _wait(lambda: other.listening, "the feed listened")

    stored: list[int] = []

    def changes() -> None:
        stored.extend(_alerts(api, scenario, 3))
        # Hub A changes the queue and tells only its own consoles; hub B's come from the feed.
        hub_a.announce(_claim(database, hub_a, stored[0], user=7))
        with database.session() as db:
            hub_a.announce(
                hub_a.settled(db, stored[1], decision="false_alert", outcome=None, by="x")
            )

    events = _listen_scenario(hub_b, changes, 2)
    _wait(lambda: len(heard) >= 3, "the other process heard the three alerts")
    assert heard == stored  # in order, each once, nothing stored before it started
    assert before[0] not in heard
    assert [type(e) for e in events] == [ClaimsSnapshot, ClaimEvent, SettledEvent]
    claim = events[1]
    assert isinstance(claim, ClaimEvent) and claim.claim.alert_id == stored[0]
    other.catch_up()
    assert heard == stored  # looking again tells nothing twice


def test_the_listener_reconnects_and_replays_what_it_missed(
    api: Api, scenario: tuple[Scenario, bytes], feed: Callable[..., HubFeed]
) -> None:
    database = api.plane.database
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite polls")
    # Slow retries, so the alert below is stored while nobody listens.
    other = feed(poll_s=2.0)
    heard = _follow_alerts(other)
    other.start()
    _wait(lambda: other.listening, "the feed listened")
    with database.engine.begin() as conn:
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'openlfr-feed' AND pid <> pg_backend_pid()"
            )
        ).all()
    assert killed
    missed = _alerts(api, scenario, 2)
    _wait(lambda: other.reconnects >= 1, "the feed saw its connection drop")
    _wait(lambda: len(heard) >= 2, "the feed replayed the alerts stored while it was away")
    assert heard == missed
    assert other.listening
    more = _alerts(api, scenario, 1)
    _wait(lambda: len(heard) >= 3, "the feed heard a new alert after reconnecting")
    assert heard == missed + more


def test_seen_tells_late_lower_ids_once() -> None:
    seen = Seen(10, window=4)
    assert not seen.first(10)  # at the floor: stored before this process started
    assert seen.first(12) and seen.first(11)  # 11 committed after 12
    assert not seen.first(12)
    assert seen.unseen([11, 12, 13]) == [13]
    for i in range(13, 30):
        assert seen.first(i)
    assert seen.look_from() == 25
    assert not seen.first(15)  # far below the window: long since told
