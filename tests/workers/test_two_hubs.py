"""Two hub processes (``openlfr serve``) on one database, as behind one address: an alert stored
through either reaches both hubs' alert streams once, and a claim or decision made on one holds
on the other and reaches its consoles' event stream.

PostgreSQL (LISTEN/NOTIFY) skips when no server answers; SQLite (the feed polls) always runs.
The delay from handing an alert (or a claim) to one hub to its event on each hub's stream is
measured and printed, never asserted.
"""

from __future__ import annotations

import base64
import json
import math
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from workers_support import HubProcess, Prepared, prepare, wait_for

from openlfr.api.app import create_app
from openlfr.api.testing import EXAMPLES, FakeLauncher, add_token, add_user, probe_crop
from openlfr.config import Settings
from openlfr.config.server import DatabaseConfig
from openlfr.services import Services
from openlfr.storage.engine import Database
from openlfr.storage.testing import PostgresSchema, postgres_unavailable
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

ALERTS = 20


@dataclass
class Stream:
    """One server-sent-event stream read in a thread: (event, id, data, arrival time)."""

    url: str
    token: str
    events: list[tuple[str, int | None, dict[str, object], float]] = field(default_factory=list)
    open: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._read, daemon=True).start()
        assert self.open.wait(30), f"{self.url} did not open"
        return self

    def _read(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        name, event_id, data = "message", None, None
        try:
            with httpx.stream("GET", self.url, headers=headers, timeout=None) as r:
                assert r.status_code == 200, r.read()
                for line in r.iter_lines():
                    # The first line ("retry:") comes after the stream has subscribed.
                    self.open.set()
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("data: "):
                        data = json.loads(line[6:])
                    elif line == "" and data is not None:
                        self.events.append((name, event_id, data, time.time()))
                        name, event_id, data = "message", None, None
        except httpx.HTTPError:
            return  # the hub went away at the end of the test

    def alert_ids(self) -> list[int]:
        return [i for name, i, _, _ in self.events if name == "alert" and i is not None]

    def arrival(self, name: str, alert_id: int) -> float | None:
        for n, i, data, at in self.events:
            if n == name and (i == alert_id or _alert_of(data) == alert_id):
                return at
        return None


def _alert_of(data: dict[str, object]) -> object:
    claim = data.get("claim")
    if isinstance(claim, dict):
        return claim.get("alert_id")
    return data.get("alert_id")


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database both hubs use: None for the home's SQLite file, else a private PG schema."""
    if request.param == "sqlite":
        yield None
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


def _second_operator(prepared: Prepared, settings: dict[str, object]) -> str:
    """Another operator's token (claims are per person)."""
    services = Services(Settings(home=prepared.home, **settings))  # type: ignore[arg-type]
    app = create_app(services=services, launcher=FakeLauncher(), background=False)
    with TestClient(app):
        plane = app.state.plane
        token = add_token(plane, add_user(plane, "operator-2-svc", Role.OPERATOR, password=None))
    services.database.dispose()
    return token


def _subject_id(url: str) -> str:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return str(conn.execute(text("SELECT id FROM subjects")).scalar_one())
    finally:
        db.dispose()


def _deliver(hub: HubProcess, dep: int, subject: str, crop: bytes, n: int) -> int:
    body = {
        "uid": uuid.uuid4().hex,
        "deployment_id": dep,
        "camera": "cam-1",
        "subject_id": subject,
        "score": 0.71,
        "track_id": f"t{n}",
        "captured_at": datetime.now(UTC).isoformat(),
        "crop": base64.b64encode(crop).decode(),
    }
    r = hub.call("POST", "/workers/alerts", Role.WORKER, json=body)
    assert r.status_code == 200, r.text
    assert not r.json()["duplicate"]
    return int(r.json()["alert_id"])


def _console(
    hub: HubProcess, method: str, path: str, token: str, json: object = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"}
    return httpx.request(
        method, f"{hub.base}/console{path}", headers=headers, json=json, timeout=60
    )


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        # Nearest rank: of 20 samples, the 19th.
        "p95_ms": round(ordered[math.ceil(0.95 * len(ordered)) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def test_two_hubs_show_the_same_queue_and_hold_the_same_claims(
    tmp_path: Path, pack: ModelPack, shared_data: Path, shared_url: str | None
) -> None:
    settings: dict[str, object] = {}
    env: dict[str, str] = {}
    if shared_url is not None:
        settings["database"] = DatabaseConfig(url=shared_url)
        env["OPENLFR_DATABASE__URL"] = shared_url
    prepared = prepare(tmp_path / "home", pack, shared_data, **settings)
    url = shared_url or f"sqlite:///{prepared.home / 'openlfr.db'}"
    other_operator = _second_operator(prepared, settings)
    subject = _subject_id(url)
    photos = shared_data / EXAMPLES
    crop = probe_crop(pack, photos / "obama_02.jpg")
    operator = prepared.tokens[Role.OPERATOR]
    dep = prepared.deployment_id

    with ExitStack() as stack:
        # Both on one home (one data key and blob folder) and one database; no local workers.
        a = stack.enter_context(HubProcess(prepared, env=env, workers=0))
        b = stack.enter_context(HubProcess(prepared, env=env, workers=0))
        a.start_deployment()
        alerts = {h: Stream(f"{h.base}/api/v1/alerts/stream", operator).start() for h in (a, b)}
        events = {h: Stream(f"{h.base}/console/api/events", operator).start() for h in (a, b)}

        # -- alerts stored through either hub reach both streams, once ---------------------
        stored: list[tuple[HubProcess, int, float]] = []
        for n in range(ALERTS):
            through = a if n % 2 == 0 else b
            sent = time.time()
            alert_id = _deliver(through, dep, subject, crop, n)
            stored.append((through, alert_id, sent))
            wait_for(
                lambda i=alert_id: all(i in s.alert_ids() for s in alerts.values()),
                30,
                f"alert {alert_id} on both hubs' streams",
                through,
            )
        marker = _deliver(a, dep, subject, crop, ALERTS)
        wait_for(lambda: all(marker in s.alert_ids() for s in alerts.values()), 30, "the marker")
        ids = [i for _, i, _ in stored] + [marker]
        for hub, stream in alerts.items():
            assert sorted(stream.alert_ids()) == sorted(ids), f"hub {hub.port}: once each"

        local, remote, behind = [], [], []
        for through, alert_id, sent in stored:
            own = alerts[through].arrival("alert", alert_id)
            other = alerts[b if through is a else a].arrival("alert", alert_id)
            assert own is not None and other is not None
            local.append(own - sent)
            remote.append(other - sent)
            behind.append(other - own)

        # -- a claim on one hub holds on the other and reaches its consoles ----------------
        first, second = stored[0][1], stored[1][1]
        claimed_at = time.time()
        r = _console(a, "POST", f"/api/alerts/{first}/claim", operator)
        assert r.status_code == 200, r.text
        r = _console(b, "POST", f"/api/alerts/{first}/claim", other_operator)
        assert r.status_code == 409 and r.json()["error"]["code"] == "taken", r.text
        wait_for(lambda: events[b].arrival("claim", first), 30, "the claim on hub B's stream", b)
        claim_delay = (events[b].arrival("claim", first) or 0) - claimed_at
        # A console opening on hub B now is told of the claim first.
        late = Stream(f"{b.base}/console/api/events", other_operator).start()
        wait_for(lambda: late.events, 30, "the claims snapshot", b)
        name, _, data, _ = late.events[0]
        assert name == "claims"
        claims = data["claims"]
        assert isinstance(claims, list) and [c["alert_id"] for c in claims] == [first]

        # -- released on B, seen on A; decided on A, refused and dropped on B --------------
        r = _console(b, "POST", f"/api/alerts/{second}/claim", other_operator)
        assert r.status_code == 200, r.text
        r = _console(a, "POST", f"/api/alerts/{second}/claim", operator)
        assert r.status_code == 409, r.text
        r = _console(b, "DELETE", f"/api/alerts/{second}/claim", other_operator)
        assert r.status_code == 204, r.text
        wait_for(lambda: events[a].arrival("release", second), 30, "the release on hub A", a)
        r = _console(a, "POST", f"/api/alerts/{second}/claim", operator)
        assert r.status_code == 200, r.text

        decided_at = time.time()
        r = _console(
            a, "POST", f"/api/alerts/{first}/decision", operator, json={"decision": "false_alert"}
        )
        assert r.status_code == 201, r.text
        wait_for(lambda: events[b].arrival("settled", first), 30, "the decision on hub B", b)
        settle_delay = (events[b].arrival("settled", first) or 0) - decided_at
        r = _console(b, "POST", f"/api/alerts/{first}/claim", other_operator)
        assert r.status_code == 409 and r.json()["error"]["code"] == "already_adjudicated"
        decision = {"decision": "engaged", "outcome": "arrested"}
        r = b.call("POST", f"/alerts/{first}/adjudication", Role.OPERATOR, json=decision)
        assert r.status_code == 409, r.text
        r = _console(a, "DELETE", f"/api/alerts/{second}/claim", operator)
        assert r.status_code == 204, r.text
        # Each change reached each hub's consoles once.
        expected = Counter(
            [
                ("claim", first),
                ("claim", second),
                ("release", second),
                ("claim", second),
                ("settled", first),
                ("release", second),
            ]
        )
        for hub, stream in events.items():
            wait_for(
                lambda s=stream: len([e for e in s.events if e[0] != "claims"]) >= 6,
                30,
                "every change on the consoles' stream",
                hub,
            )
            kinds = Counter((n, _alert_of(d)) for n, _, d, _ in stream.events if n != "claims")
            assert kinds == expected, hub.port

    figures = {
        "backend": "postgresql" if shared_url else "sqlite",
        "alerts": ALERTS,
        "handed_to_own_stream": _ms(local),
        "handed_to_other_hub_stream": _ms(remote),
        "other_hub_after_own": _ms(behind),
        "claim_to_other_hub_ms": round(claim_delay * 1000, 1),
        "decision_to_other_hub_ms": round(settle_delay * 1000, 1),
    }
    print(f"\ntwo hubs: {json.dumps(figures)}")
