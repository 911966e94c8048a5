"""A published ("final") deployment record never changes: a late decision is refused, or listed
as a dated, attributed amendment while the figures and the audit anchor stay as published; and
closing with alerts still waiting needs a reason (API and console)."""

from __future__ import annotations

import json
from pathlib import Path

from openlfr.api.testing import Api, alert_input, live_scenario, probe_crop
from openlfr.audit.checkpoints import read_checkpoints
from openlfr.demokit import KIT_DIR
from openlfr.reports.record import PublishedRecord, build_record
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

LISTED = KIT_DIR / "images" / "london_001_neutral.jpg"
SEEN = KIT_DIR / "images" / "london_001_smiling.jpg"
REASON = "the operator's shift ended before the last alert was reviewed"


def _record(api: Api, deployment_id: int) -> PublishedRecord:
    with api.plane.database.session() as db:
        return build_record(db, deployment_id, now=api.plane.clock.now())


def _live_with_alerts(
    api: Api, pack: ModelPack, decisions: list[str | None]
) -> tuple[int, list[int]]:
    scene = live_scenario(api, [LISTED], two_person=False)  # one person decides each alert
    session = api.launcher.sessions[scene.deployment_id]
    crop = probe_crop(pack, SEEN)
    ids = []
    for i, decision in enumerate(decisions):
        session.on_alert(
            alert_input(scene.deployment_id, "cam-1", scene.subject_id, crop, track_id=str(i))
        )
        alert_id = api.call("GET", "/alerts", Role.OPERATOR, params={"limit": 1}).json()["items"]
        ids.append(alert_id[0]["id"])
        if decision is not None:
            r = api.call(
                "POST",
                f"/alerts/{ids[-1]}/adjudication",
                Role.OPERATOR,
                json={"decision": decision},
            )
            assert r.status_code == 201, r.text
    return scene.deployment_id, ids


def test_closing_with_pending_alerts_needs_a_reason(api: Api, pack: ModelPack) -> None:
    dep, _ = _live_with_alerts(api, pack, ["false_alert", None])
    refused = api.call(
        "POST", f"/deployments/{dep}/close", Role.AUTHORISING_OFFICER, json={"reason": "end"}
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "alerts_pending" and "1 alert" in error["message"]
    assert api.call("GET", f"/deployments/{dep}", Role.AUDITOR).json()["state"] == "live"
    short = api.call(
        "POST",
        f"/deployments/{dep}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "end", "pending_reason": "x"},
    )
    assert short.status_code == 409
    ok = api.call(
        "POST",
        f"/deployments/{dep}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "end", "pending_reason": REASON},
    )
    assert ok.status_code == 200, ok.text
    closed = api.call(
        "GET", "/audit/events", Role.AUDITOR, params={"action": "deployment.closed"}
    ).json()["items"][0]["details"]
    assert closed["alerts_pending"] == 1 and closed["pending_reason"] == REASON


def test_the_console_warns_about_pending_alerts_before_closing(api: Api, pack: ModelPack) -> None:
    dep, _ = _live_with_alerts(api, pack, [None])
    page = api.client.get(
        f"/console/deployments/{dep}", headers=api.headers(Role.AUTHORISING_OFFICER)
    )
    assert page.status_code == 200, page.text
    assert "1 alert still waits for a decision" in page.text
    assert 'name="pending_reason"' in page.text


def test_a_published_record_does_not_change_after_a_late_decision(
    api: Api, pack: ModelPack, isolated_home: Path
) -> None:
    dep, ids = _live_with_alerts(api, pack, ["false_alert", "not_engaged", None])
    r = api.call(
        "POST",
        f"/deployments/{dep}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "end", "pending_reason": REASON},
    )
    assert r.status_code == 200, r.text
    published = _record(api, dep)
    assert published.status == "final" and published.published_at is not None
    assert (published.alerts, published.false_alerts, published.not_adjudicated) == (3, 1, 1)
    assert published.record_sha256 and not published.amendments
    # Reading it again, or any other audited activity, does not move its anchor.
    api.call("GET", "/alerts", Role.OPERATOR)
    assert _record(api, dep).audit_head_seq == published.audit_head_seq

    late = f"/alerts/{ids[2]}/adjudication"
    refused = api.call("POST", late, Role.OPERATOR, json={"decision": "false_alert"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "record_published"
    amended = api.call(
        "POST",
        late,
        Role.OPERATOR,
        json={"decision": "false_alert", "amendment_reason": "reviewed the footage next day"},
    )
    assert amended.status_code == 201, amended.text

    after = _record(api, dep)
    figures = {"published_at", "record_sha256", "amendments"}
    assert after.model_dump(exclude=figures) == published.model_dump(exclude=figures)
    assert after.false_alerts == 1 and after.false_alert_rate_per_alert == 1 / 3
    (amendment,) = after.amendments
    assert amendment.kind == "late decision" and amendment.alert_id == ids[2]
    # The record names the person behind the account (here a service account's name).
    assert amendment.decision == "false_alert" and amendment.by == "operator-svc"
    assert amendment.reason == "reviewed the footage next day"
    assert amendment.at >= published.published_at

    # The console's JSON download is the same frozen record, with its amendment listed.
    officer = api.headers(Role.AUTHORISING_OFFICER)
    served = api.client.get(f"/console/deployments/{dep}/record.json", headers=officer)
    data = json.loads(served.text)
    assert data["false_alerts"] == 1 and len(data["amendments"]) == 1
    assert data["audit_head_seq"] == published.audit_head_seq

    # The close was anchored outside the database by a signed checkpoint.
    checkpoints = read_checkpoints(api.plane.checkpoints.path).checkpoints
    assert any(c.reason == f"deployment {dep} closed" for c in checkpoints)
    assert all(c.signature_valid(api.plane.checkpoints.key.public_key) for c in checkpoints)
