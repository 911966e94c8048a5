"""Alerts: stored before anyone is told, read and adjudicated over the API, on the record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from openlfr.api.testing import EXAMPLES, Api, Scenario, alert_input, live_scenario, probe_crop
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.errors import Conflict, InvalidInput
from openlfr.storage.testing import ManualClock
from openlfr.users.roles import Role

OPERATOR, OFFICER, AUDITOR = Role.OPERATOR, Role.AUTHORISING_OFFICER, Role.AUDITOR


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


@pytest.fixture
def live(api: Api, photos: Path) -> Scenario:
    # One operator decides alone here; two-person verification has its own tests.
    return live_scenario(api, [photos / "obama_01.jpg"], two_person=False)


def _raise(api: Api, s: Scenario, crop: bytes, **kw: object) -> int:
    """An alert from the running (fake) pipeline, as the live link delivers it."""
    session = api.launcher.sessions[s.deployment_id]
    heard: list[int] = []
    api.plane.recorder.add_listener(lambda a: heard.append(a.id))
    session.on_alert(alert_input(s.deployment_id, s.camera, s.subject_id, crop, **kw))
    assert heard, "listeners hear of an alert once it is stored"
    return heard[-1]


def test_alert_is_stored_then_read_and_adjudicated_once(
    api: Api, live: Scenario, photos: Path
) -> None:
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    alert_id = _raise(api, live, crop, score=0.66)
    page = api.call("GET", "/alerts", OPERATOR, params={"pending": True}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == alert_id
    alert = page["items"][0]
    assert alert["subject_reference"] == "WL-0001" and alert["score"] == pytest.approx(0.66)
    assert alert["adjudication"] is None
    got = api.call("GET", f"/alerts/{alert_id}/crop", OPERATOR)
    assert got.content == crop and got.headers["content-type"] == "image/png"
    assert api.call("GET", f"/alerts/{alert_id}/crop", AUDITOR).status_code == 403
    r = api.call("POST", f"/alerts/{alert_id}/adjudication", OPERATOR, json={"decision": "engaged"})
    assert r.status_code == 422  # an engagement needs its outcome
    r = api.call(
        "POST",
        f"/alerts/{alert_id}/adjudication",
        OPERATOR,
        json={"decision": "engaged", "outcome": "advised", "notes": "spoken to, released"},
    )
    assert r.status_code == 201, r.text
    decided = r.json()["adjudication"]
    assert decided["decided_by"] == "token:operator-svc" and decided["outcome"] == "advised"
    r = api.call(
        "POST", f"/alerts/{alert_id}/adjudication", OPERATOR, json={"decision": "false_alert"}
    )
    assert r.status_code == 409
    dep = api.call("GET", f"/deployments/{live.deployment_id}", OPERATOR).json()
    assert (dep["alerts_total"], dep["engaged"], dep["false_alerts"]) == (1, 1, 0)
    assert api.call("GET", "/alerts", OPERATOR, params={"pending": True}).json()["total"] == 0


def test_alerts_from_a_deployment_that_is_not_live_are_refused(
    api: Api, live: Scenario, photos: Path
) -> None:
    clock = api.plane.clock
    assert isinstance(clock, ManualClock)
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    captured = clock.now()
    clock.advance(seconds=5)
    api.call("POST", f"/deployments/{live.deployment_id}/stop", OPERATOR, json={})
    # Captured before the stop and arriving just after it: still part of that use.
    late = alert_input(live.deployment_id, live.camera, live.subject_id, crop, captured_at=captured)
    assert api.plane.recorder.record(late).run_id is not None
    clock.advance(minutes=5)
    with pytest.raises(Conflict, match="not live"):
        api.plane.recorder.record(late)
    clock.advance(seconds=1)
    api.call("POST", f"/deployments/{live.deployment_id}/start", OPERATOR)
    stranger = alert_input(live.deployment_id, "cam-9", live.subject_id, crop)
    with pytest.raises(InvalidInput, match="no camera"):
        api.plane.recorder.record(stranger)
    wrong = alert_input(live.deployment_id, live.camera, 424242, crop)
    with pytest.raises(InvalidInput, match="not on deployment"):
        api.plane.recorder.record(wrong)


def test_legal_hold_needs_a_reason(api: Api, live: Scenario, photos: Path) -> None:
    alert_id = _raise(api, live, probe_crop(api.plane.services.pack, photos / "obama_02.jpg"))
    r = api.call("POST", f"/alerts/{alert_id}/hold", OFFICER, json={"hold": True, "reason": "x"})
    assert r.status_code == 422
    r = api.call(
        "POST",
        f"/alerts/{alert_id}/hold",
        OFFICER,
        json={"hold": True, "reason": "evidence in case 42/2026"},
    )
    assert r.status_code == 200 and r.json()["legal_hold"] is True


def test_deployment_record_answers_article_12(api: Api, live: Scenario, photos: Path) -> None:
    """Start and end of each use, watchlist version searched, the input behind each match and
    who verified it, from the audit log alone."""
    clock = api.plane.clock
    assert isinstance(clock, ManualClock)
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    alert_id = _raise(api, live, crop)
    api.call("POST", f"/alerts/{alert_id}/adjudication", OPERATOR, json={"decision": "false_alert"})
    clock.advance(hours=1)
    api.call(
        "POST",
        f"/deployments/{live.deployment_id}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "end"},
    )
    record = api.call("GET", f"/audit/deployments/{live.deployment_id}/record", AUDITOR).json()
    assert record["chain_verified"] is True
    (use,) = record["uses"]
    assert use["started_by"] == "token:operator-svc" and use["ended_at"] is not None
    wl = api.call("GET", f"/watchlists/{live.watchlist_id}", AUDITOR).json()
    assert (use["watchlist_id"], use["watchlist_version"]) == (wl["id"], wl["version"])
    assert use["watchlist_digest"] == wl["content_digest"]
    (match,) = record["matches"]

    assert match["alert_id"] == alert_id
    assert match["probe_sha256"] == hashlib.sha256(crop).hexdigest()
    assert match["camera"] == "cam-1" and match["subject_reference"] == "WL-0001"
    assert match["verification"]["decided_by"] == "token:operator-svc"
    assert match["verification"]["decision"] == "false_alert"
    assert record["closed_at"] is not None
    assert api.call("GET", "/audit/deployments/999/record", AUDITOR).status_code == 404


def test_every_read_of_alert_data_is_audited(api: Api, live: Scenario, photos: Path) -> None:
    alert_id = _raise(api, live, probe_crop(api.plane.services.pack, photos / "obama_02.jpg"))
    before = _counts(api)
    api.call("GET", "/alerts", OPERATOR)
    api.call("GET", f"/alerts/{alert_id}", AUDITOR)
    api.call("GET", f"/alerts/{alert_id}/crop", OPERATOR)
    after = _counts(api)
    assert after[Action.ALERTS_LISTED] == before[Action.ALERTS_LISTED] + 1
    assert after[Action.ALERT_READ] == before[Action.ALERT_READ] + 1
    assert after[Action.ALERT_CROP_VIEWED] == before[Action.ALERT_CROP_VIEWED] + 1


def _counts(api: Api) -> dict[Action, int]:
    with api.plane.database.session() as s:
        return {
            a: audit.count_events(s, action=a)
            for a in (Action.ALERTS_LISTED, Action.ALERT_READ, Action.ALERT_CROP_VIEWED)
        }
