"""The console's alert stream (server-sent events) on a real server: live, filtered, replayed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openlfr.api.testing import (
    EXAMPLES,
    Api,
    Scenario,
    alert_input,
    live_scenario,
    probe_crop,
    serve_in_thread,
)
from openlfr.notify.messages import AlertMessage
from openlfr.users.roles import Role


def _events(lines: Iterator[str], n: int) -> list[dict[str, object]]:
    """The next ``n`` alert events: their id and decoded data."""
    out: list[dict[str, object]] = []
    current: dict[str, object] = {}
    for line in lines:
        if line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and "data" in current:
            out.append(current)
            current = {}
            if len(out) == n:
                return out
    raise AssertionError(f"stream ended after {len(out)} of {n} events")


def _wait_for_subscribers(api: Api, n: int) -> None:
    deadline = time.monotonic() + 10
    while api.plane.broker.subscribers < n:
        assert time.monotonic() < deadline, "the stream never subscribed"
        time.sleep(0.01)


@pytest.fixture
def scenario(api: Api, shared_data: Path) -> tuple[Scenario, bytes]:
    photos = shared_data / EXAMPLES
    s = live_scenario(api, [photos / "obama_01.jpg"])
    return s, probe_crop(api.plane.services.pack, photos / "obama_02.jpg")


def test_stream_delivers_stored_alerts_and_replays_after_a_drop(
    api: Api, scenario: tuple[Scenario, bytes]
) -> None:
    s, crop = scenario
    record = api.plane.recorder.record
    headers = api.headers(Role.OPERATOR)
    with serve_in_thread(api.app, lifespan=False) as base:
        url = f"{base}/api/v1/alerts/stream"
        with httpx.stream("GET", url, headers=headers, timeout=30) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            _wait_for_subscribers(api, 1)
            first = record(alert_input(s.deployment_id, s.camera, s.subject_id, crop))
            (event,) = _events(r.iter_lines(), 1)
        assert event["id"] == first.id
        data = event["data"]
        assert isinstance(data, dict)
        assert data["subject_reference"] == "WL-0001" and data["deployment_id"] == s.deployment_id
        assert data["crop_url"] == f"/api/v1/alerts/{first.id}/crop"
        # While the console is away, two more alerts are stored...
        missed = [
            record(alert_input(s.deployment_id, s.camera, s.subject_id, crop, track_id=t)).id
            for t in ("8", "9")
        ]
        # ...and reconnecting with Last-Event-ID replays them, then goes on live.
        with httpx.stream(
            "GET", url, headers={**headers, "Last-Event-ID": str(first.id)}, timeout=30
        ) as r:
            lines = r.iter_lines()
            replayed = _events(lines, 2)
            assert [e["id"] for e in replayed] == missed
            _wait_for_subscribers(api, 1)
            threading.Thread(
                target=record,
                args=(alert_input(s.deployment_id, s.camera, s.subject_id, crop, track_id="10"),),
            ).start()
            (live,) = _events(lines, 1)
            assert live["id"] == missed[-1] + 1


def test_stream_filters_by_deployment_and_needs_permission(
    api: Api, scenario: tuple[Scenario, bytes]
) -> None:
    s, crop = scenario
    with serve_in_thread(api.app, lifespan=False) as base:
        url = f"{base}/api/v1/alerts/stream"
        with httpx.stream("GET", url, headers=api.headers(Role.WATCHLIST_MANAGER)) as r:
            assert r.status_code == 403
        other = {"deployment_id": s.deployment_id + 1}
        mine = {"deployment_id": s.deployment_id}
        h = api.headers(Role.OPERATOR)
        with (
            httpx.stream("GET", url, params=other, headers=h, timeout=30) as r_other,
            httpx.stream("GET", url, params=mine, headers=h, timeout=30) as r_mine,
        ):
            _wait_for_subscribers(api, 2)
            alert = api.plane.recorder.record(
                alert_input(s.deployment_id, s.camera, s.subject_id, crop)
            )
            lines = r_mine.iter_lines()
            (event,) = _events(lines, 1)
            assert event["id"] == alert.id
            # The other deployment's stream got nothing and is still open.
            assert api.plane.broker.subscribers == 2
            assert r_other.status_code == 200


def test_an_alert_that_commits_after_a_later_one_is_still_sent(
    api: Api, scenario: tuple[Scenario, bytes]
) -> None:
    # On PostgreSQL, and across hub processes, ids are not committed in id order.
    s, crop = scenario
    record = api.plane.recorder.record
    early, late = (
        record(alert_input(s.deployment_id, s.camera, s.subject_id, crop, track_id=t))
        for t in ("1", "2")
    )
    with serve_in_thread(api.app, lifespan=False) as base:
        url = f"{base}/api/v1/alerts/stream"
        with httpx.stream("GET", url, headers=api.headers(Role.OPERATOR), timeout=30) as r:
            _wait_for_subscribers(api, 1)
            for alert in (late, early, late):
                api.plane.broker.publish(AlertMessage.of(alert))
            got = _events(r.iter_lines(), 2)
    assert [e["id"] for e in got] == [late.id, early.id]
