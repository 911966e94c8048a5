"""The published deployment record: every field from real control-plane activity, counts that
survive the purge of alerts and watchlist, the cameras' counts kept at each stop, and the
record's JSON, CSV, printable HTML and console page."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from openlfr.api.testing import PASSWORD, Api, alert_input, live_scenario, probe_crop
from openlfr.demokit import KIT_DIR
from openlfr.deployments.live import CameraLiveStatus
from openlfr.privacy.retention import run_purge
from openlfr.reports.formats import CSV_COLUMNS, rate_text, record_json, records_csv
from openlfr.reports.html import PRINT_CSS, record_page, style_csp
from openlfr.reports.record import PublishedRecord, build_record
from openlfr.storage.clock import Clock
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

LISTED = KIT_DIR / "images" / "london_001_neutral.jpg"
SEEN = KIT_DIR / "images" / "london_001_smiling.jpg"
# (decision, outcome) per alert; None: left for the operator.
JUDGEMENTS: list[tuple[str, str | None] | None] = [
    ("engaged", "arrested"),
    ("engaged", "not_the_person"),
    ("not_engaged", None),
    ("false_alert", None),
    ("engaged", "advised"),
    None,
]


@dataclass
class Ran:
    api: Api
    deployment_id: int

    def record(self) -> PublishedRecord:
        with self.api.plane.database.session() as db:
            return build_record(db, self.deployment_id, now=self.api.plane.clock.now())


def _counts(frames: int, faces: int, tracks: int) -> Callable[[], list[CameraLiveStatus]]:
    def status() -> list[CameraLiveStatus]:
        return [CameraLiveStatus("cam-1", "running", None, frames, faces, tracks)]

    return status


@pytest.fixture
def ran(api: Api, pack: ModelPack) -> Ran:
    """Two hours live: six alerts, five adjudicated, 40 faces seen, then stopped."""
    scene = live_scenario(api, [LISTED], two_person=False)  # one person decides each alert
    dep = scene.deployment_id
    session = api.launcher.sessions[dep]
    crop = probe_crop(pack, SEEN)
    clock = api.plane.clock
    for i, judgement in enumerate(JUDGEMENTS):
        session.on_alert(
            alert_input(
                dep, "cam-1", scene.subject_id, crop, track_id=str(i), captured_at=clock.now()
            )
        )
        alert_id = api.call("GET", "/alerts", Role.OPERATOR, params={"limit": 1}).json()["items"][
            0
        ]["id"]
        if judgement is not None:
            decision, outcome = judgement
            r = api.call(
                "POST",
                f"/alerts/{alert_id}/adjudication",
                Role.OPERATOR,
                json={"decision": decision, "outcome": outcome},
            )
            assert r.status_code == 201, r.text
    session.status = _counts(900, 1_300, 40)  # type: ignore[method-assign]
    _advance(clock, hours=2)
    r = api.call("POST", f"/deployments/{dep}/stop", Role.OPERATOR, json={"reason": "shift over"})
    assert r.status_code == 200, r.text
    return Ran(api, dep)


def _advance(clock: Clock, **delta: float) -> None:
    clock.advance(**delta)  # type: ignore[attr-defined]


def test_record_has_every_published_field(ran: Ran) -> None:
    r = ran.record()
    assert r.status == "provisional"
    assert r.deployment_date == r.started_at.date() if r.started_at else False
    assert r.location == "High Street, north end"
    assert r.use_case == "locate people wanted on warrant"
    assert r.periods_of_use == 1 and r.duration_hours == pytest.approx(2.0)
    assert r.watchlist_size == 1 and r.threshold == r.thresholds_used[0]
    assert r.faces_seen == 40  # confirmed tracks, from the cameras' counters
    assert r.alerts == 6
    assert r.true_alerts == 3  # arrested, advised, not engaged
    assert (r.false_alerts, r.false_alerts_confirmed, r.false_alerts_unconfirmed) == (2, 1, 1)
    assert r.not_adjudicated == 1
    assert r.engagements == 3 and r.arrests == 1
    assert r.false_alert_rate_per_face == pytest.approx(2 / 40)
    assert r.false_alert_rate_per_alert == pytest.approx(2 / 6)
    (row,) = r.outcomes_by_category
    assert row.category == "wanted_on_warrant"
    assert (row.arrested, row.advised, row.no_further_action, row.not_engaged) == (1, 1, 0, 1)
    assert (row.false_confirmed, row.false_unconfirmed, row.not_adjudicated) == (1, 1, 1)
    assert r.audit_head_seq and r.audit_head_hash and len(r.audit_head_hash) == 64


def test_counts_are_audited_and_shown_with_the_period_of_use(ran: Ran) -> None:
    dep = ran.api.call("GET", f"/deployments/{ran.deployment_id}", Role.AUDITOR).json()
    (run,) = dep["runs"]
    assert (run["frames_processed"], run["face_detections"], run["faces_seen"]) == (900, 1300, 40)
    events = ran.api.call(
        "GET",
        "/audit/events",
        Role.AUDITOR,
        params={"action": "deployment.run_counts", "deployment_id": ran.deployment_id},
    ).json()["items"]
    (event,) = events
    details = (
        event["details"] if isinstance(event["details"], dict) else json.loads(event["details"])
    )
    assert details["faces_seen"] == 40 and details["cameras"]["cam-1"]["tracks"] == 40


def test_record_survives_close_and_every_purge(ran: Ran) -> None:
    before = ran.record()
    r = ran.api.call(
        "POST",
        f"/deployments/{ran.deployment_id}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "done", "pending_reason": "one alert left for the morning review"},
    )
    assert r.status_code == 200, r.text
    plane = ran.api.plane
    _advance(plane.clock, days=40)  # past the grace and the alerts' retention
    report = run_purge(plane.database, plane.blobs, plane.clock, plane.settings.retention)
    assert report.alerts_purged == 6
    after = ran.record()
    assert after.status == "final" and after.closed_at is not None
    assert after.watchlist_size == 1  # from the purged version's counts
    same = {
        "generated_at",
        "status",
        "closed_at",
        "audit_head_seq",
        "audit_head_hash",
        "published_at",
        "record_sha256",
    }
    assert after.model_dump(exclude=same) == before.model_dump(exclude=same)


def test_a_second_period_adds_up(ran: Ran) -> None:
    api = ran.api
    assert (
        api.call("POST", f"/deployments/{ran.deployment_id}/start", Role.OPERATOR).status_code
        == 200
    )
    api.launcher.sessions[ran.deployment_id].status = _counts(10, 12, 5)  # type: ignore[method-assign]
    _advance(api.plane.clock, minutes=30)
    api.call("POST", f"/deployments/{ran.deployment_id}/stop", Role.OPERATOR, json={"reason": ""})
    r = ran.record()
    assert r.periods_of_use == 2 and r.faces_seen == 45
    assert r.duration_hours == pytest.approx(2.5)


def test_lost_counts_give_no_rate_per_face(ran: Ran) -> None:
    api = ran.api
    api.call("POST", f"/deployments/{ran.deployment_id}/start", Role.OPERATOR)

    def broken() -> list[CameraLiveStatus]:
        raise RuntimeError("the cameras' process is gone")

    api.launcher.sessions[ran.deployment_id].status = broken  # type: ignore[method-assign]
    r = api.call(
        "POST", f"/deployments/{ran.deployment_id}/stop", Role.OPERATOR, json={"reason": ""}
    )
    assert r.status_code == 200  # the stop itself is recorded
    record = ran.record()
    assert record.faces_seen is None and record.false_alert_rate_per_face is None
    assert record.false_alert_rate_per_alert == pytest.approx(2 / 6)


def test_a_draft_has_an_empty_record(api: Api) -> None:
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        Role.AUTHORISING_OFFICER,
        json={
            "name": "planned",
            "location": "Station forecourt",
            "area": "Northtown",
            "purpose": "p",
            "legal_basis": "b",
            "planned_start": now.isoformat(),
            "planned_end": (now + timedelta(hours=1)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    with api.plane.database.session() as db:
        record = build_record(db, r.json()["id"], now=now)
        with pytest.raises(LookupError):
            build_record(db, 999, now=now)
    assert record.area == "Northtown" and record.deployment_date is None
    assert (record.periods_of_use, record.faces_seen, record.alerts) == (0, 0, 0)
    assert record.false_alert_rate_per_face is None and record.false_alert_rate_per_alert is None
    assert record.watchlist_size is None and record.outcomes_by_category == []
    assert rate_text(record.false_alert_rate_per_alert) == "—"


def test_json_and_csv_carry_the_same_figures(ran: Ran) -> None:
    record = ran.record()
    assert json.loads(record_json(record))["faces_seen"] == 40
    rows = list(csv.DictReader(io.StringIO(records_csv([record, record]))))
    assert len(rows) == 2 and tuple(rows[0]) == CSV_COLUMNS
    row = rows[0]
    assert (row["faces_seen_estimated"], row["alerts"], row["false_alerts_confirmed"]) == (
        "40",
        "6",
        "1",
    )
    assert row["false_alert_rate_per_face"] == "0.05"
    assert row["outcomes_by_category"].startswith(
        "wanted_on_warrant: 6 alerts (arrested 1, advised 1"
    )


def test_printable_page_is_self_contained(ran: Ran) -> None:
    page = record_page(ran.record())
    assert "<script" not in page and "<img" not in page and "http" not in page.split("</style>")[1]
    assert "1 in 20 (5%)" in page and "High Street, north end" in page
    digest = base64.b64encode(hashlib.sha256(PRINT_CSS.encode()).digest()).decode()
    assert f"<style>{PRINT_CSS}</style>" in page and digest in style_csp()


# Every role a person signs in with; a worker is a service account with no password.
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.WORKER])
def test_console_shows_the_record_to_every_role(ran: Ran, role: Role) -> None:
    client = ran.api.client
    client.cookies.clear()
    login = client.post(
        "/api/v1/auth/login",
        json={"username": role.value.replace("_", "-"), "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    base = f"/console/deployments/{ran.deployment_id}"
    page = client.get(f"{base}/record")
    assert page.status_code == 200
    assert "Faces seen (estimated)" in page.text and "1 in 20" in page.text
    printable = client.get(f"{base}/record/print")
    assert printable.status_code == 200
    assert "sha256-" in printable.headers["content-security-policy"]
    as_csv = client.get(f"{base}/record.csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert client.get(f"{base}/record.json").json()["faces_seen"] == 40
    assert client.get("/console/deployments/999/record").status_code == 404
    client.cookies.clear()


def test_console_record_needs_a_sign_in(ran: Ran) -> None:
    client = ran.api.client
    client.cookies.clear()
    r = client.get(f"/console/deployments/{ran.deployment_id}/record.json", follow_redirects=False)
    assert r.status_code in (303, 401)
