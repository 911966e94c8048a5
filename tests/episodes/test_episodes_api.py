"""Alert episodes over the API: repeat sightings become one queue item in a stable order, and
an engagement needs a second, different person (two-person verification) before it counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openlfr.api.testing import Api, Scenario, add_token, add_user, alert_input, live_scenario
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.reports.formats import records_csv
from openlfr.reports.record import compute_record
from openlfr.storage.context import Actor
from openlfr.users.roles import Role

DEMOKIT = Path(__file__).resolve().parents[2] / "src" / "openlfr" / "demokit" / "images"
OPERATOR = Role.OPERATOR
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _raise(api: Api, s: Scenario, *, at: datetime, score: float, track: str) -> int:
    session = api.launcher.sessions[s.deployment_id]
    heard: list[int] = []
    api.plane.recorder.add_listener(lambda a: heard.append(a.id))
    crop = (DEMOKIT / "london_001_smiling.jpg").read_bytes()
    session.on_alert(
        alert_input(
            s.deployment_id,
            s.camera,
            s.subject_id,
            crop,
            score=score,
            captured_at=at,
            track_id=track,
            scene=crop,
        )
    )
    return heard[-1]


def _second_operator(api: Api) -> dict[str, str]:
    token = add_token(api.plane, add_user(api.plane, "operator-2-svc", OPERATOR, password=None))
    return {"Authorization": f"Bearer {token}"}


def _decide(api: Api, episode: int, headers: dict[str, str], **body: Any) -> Any:
    return api.client.post(f"/api/v1/episodes/{episode}/decision", headers=headers, json=body)


@pytest.fixture
def live(api: Api) -> Scenario:
    return live_scenario(api, [DEMOKIT / "london_001_neutral.jpg"])


def test_repeat_sightings_form_one_episode_decided_together(api: Api, live: Scenario) -> None:
    window = timedelta(seconds=api.plane.settings.governance.episode_window_s)
    first = _raise(api, live, at=T0, score=0.70, track="1")
    _raise(api, live, at=T0 + timedelta(seconds=40), score=0.82, track="2")
    _raise(api, live, at=T0 + timedelta(seconds=90), score=0.75, track="3")
    later = _raise(api, live, at=T0 + timedelta(seconds=90) + window * 2, score=0.71, track="4")
    page = api.call("GET", "/episodes", OPERATOR, params={"pending": True}).json()
    assert page["total"] == 2
    ep, other = page["items"]  # oldest waiting first
    assert ep["looks"] == 3 and ep["best_score"] == pytest.approx(0.82)
    assert ep["first_seen_at"].startswith("2026-01-05T09:00:00")
    assert ep["last_seen_at"].startswith("2026-01-05T09:01:30")
    assert ep["cameras"] == ["cam-1"] and ep["category"] == "wanted_on_warrant"
    assert ep["priority"] == api.plane.settings.governance.category_priorities["wanted_on_warrant"]
    assert other["looks"] == 1
    detail = api.call("GET", f"/episodes/{ep['id']}", OPERATOR).json()
    assert [look["score"] for look in detail["every_look"]] == pytest.approx([0.70, 0.82, 0.75])
    assert all(look["scene"] for look in detail["every_look"])
    scene = api.call("GET", f"/alerts/{first}/scene", OPERATOR)
    assert scene.status_code == 200 and scene.content.startswith(b"\xff\xd8")
    assert api.call("GET", f"/alerts/{first}/scene", Role.AUDITOR).status_code == 403

    r = _decide(api, ep["id"], api.headers(OPERATOR), decision="false_alert")
    assert r.status_code == 201, r.text
    alerts = api.call("GET", "/alerts", OPERATOR, params={"pending": True}).json()["items"]
    assert [a["id"] for a in alerts] == [later]  # the three looks were decided together
    again = _decide(api, ep["id"], api.headers(OPERATOR), decision="false_alert")
    assert again.status_code == 409
    with api.plane.work(Actor.system("test")) as ctx:
        events = [e for e in audit.iter_events(ctx.db) if e.action == Action.ALERT_ADJUDICATED]
        assert len(events) == 3


def test_an_engagement_needs_a_second_different_person(api: Api, live: Scenario) -> None:
    alert = _raise(api, live, at=T0, score=0.8, track="1")
    (ep,) = api.call("GET", "/episodes", OPERATOR, params={"pending": True}).json()["items"]
    first, second = api.headers(OPERATOR), _second_operator(api)

    refused = _decide(api, ep["id"], first, decision="engaged", outcome="arrested")
    assert refused.status_code == 422  # proposed first, without an outcome
    proposed = _decide(api, ep["id"], first, decision="engaged")
    assert proposed.status_code == 201 and proposed.json()["verification"] == "proposed"
    alone = api.call(
        "POST",
        f"/alerts/{alert}/adjudication",
        OPERATOR,
        json={"decision": "engaged", "outcome": "arrested"},
    )
    assert alone.status_code == 409 and alone.json()["error"]["code"] == "confirmation_required"
    same = _decide(api, ep["id"], first, decision="engaged")
    assert same.status_code == 409
    assert same.json()["error"]["code"] == "second_person_required"

    confirmed = _decide(api, ep["id"], second, decision="engaged")
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert body["verification"] == "confirmed" and body["decided_at"] is None
    assert body["proposed_by"] == "token:operator-svc"
    assert body["checked_by"] == "token:operator-2-svc"
    assert body["proposed_at"] and body["checked_at"]
    stored = api.call("GET", f"/alerts/{alert}", OPERATOR).json()
    assert stored["verification"]["verification"] == "confirmed"
    assert stored["adjudication"] is None  # actionable now; the outcome comes after
    done = _decide(api, ep["id"], first, decision="engaged", outcome="not_the_person")
    assert done.status_code == 201, done.text
    assert api.call("GET", f"/alerts/{alert}", OPERATOR).json()["adjudication"]["outcome"] == (
        "not_the_person"
    )

    # A second episode: the second person disagrees; no engagement, their decision stands.
    _raise(api, live, at=T0 + timedelta(hours=1), score=0.7, track="2")
    (ep2,) = api.call("GET", "/episodes", OPERATOR, params={"pending": True}).json()["items"]
    assert _decide(api, ep2["id"], first, decision="engaged").status_code == 201
    disputed = _decide(api, ep2["id"], second, decision="false_alert")
    assert disputed.status_code == 201 and disputed.json()["verification"] == "disputed"
    assert disputed.json()["decision"] == "false_alert"

    with api.plane.work(Actor.system("test")) as ctx:
        actions = [e.action for e in audit.iter_events(ctx.db, deployment_id=live.deployment_id)]
        record = compute_record(ctx.db, live.deployment_id, now=ctx.now)
    assert actions.count(Action.ENGAGEMENT_PROPOSED) == 2
    assert actions.count(Action.ENGAGEMENT_CONFIRMED) == 1
    assert actions.count(Action.ENGAGEMENT_DISPUTED) == 1
    assert record.queue_items == 2 and record.two_person is not None
    counts = record.two_person
    assert (counts.confirmed, counts.disputed, counts.overturned) == (1, 1, 1)
    assert counts.required and counts.unconfirmed == 0
    [row] = csv.DictReader(io.StringIO(records_csv([record])))
    assert (row["queue_items"], row["two_person_required"]) == ("2", "True")
    assert (row["engagements_confirmed"], row["engagements_disputed"]) == ("1", "1")
    assert row["engagements_overturned"] == "1"


def test_without_two_person_verification_one_person_engages(api: Api) -> None:
    s = live_scenario(api, [DEMOKIT / "london_001_neutral.jpg"], two_person=False)
    _raise(api, s, at=T0, score=0.8, track="1")
    (ep,) = api.call("GET", "/episodes", OPERATOR, params={"pending": True}).json()["items"]
    assert _decide(api, ep["id"], api.headers(OPERATOR), decision="engaged").status_code == 422
    r = _decide(api, ep["id"], api.headers(OPERATOR), decision="engaged", outcome="advised")
    assert r.status_code == 201 and r.json()["verification"] is None
    assert r.json()["decision"] == "engaged"
