"""Authorisation with a clock: the legal record a profile requires, urgent starts, refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from openlfr.alert_records.models import AlertRecord
from openlfr.api.testing import (
    EXAMPLES,
    Api,
    alert_input,
    b64_image,
    build_api,
    probe_crop,
    test_settings,
)
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.authorisation import AuthorisationConfig
from openlfr.config.server import RetentionConfig
from openlfr.reports.formats import records_csv
from openlfr.reports.record import compute_record
from openlfr.services import Services
from openlfr.storage.engine import Database
from openlfr.storage.errors import Conflict
from openlfr.storage.testing import ManualClock
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.watchlist_records.models import WatchlistState, WatchlistVersion

MANAGER, OFFICER = Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER
OPERATOR, COMMANDER, ADMIN = Role.OPERATOR, Role.COMMANDER, Role.ADMIN
FULL_UK = {"legal_basis_category": "common_law_policing", "authority": "Supt. A. Khan"}
FULL_EU = {
    "legal_basis_category": "art5_1h_iii_suspect_serious_crime",
    "authority": "Amtsgericht Mitte",
    "impact_assessment_reference": "FRIA-2026-14",
    "registration_reference": "EU-DB-RBI-0042",
}


@pytest.fixture(params=["uk"])
def jurisdiction(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(
    tmp_path: Path, database: Database, clock: ManualClock, pack: ModelPack, jurisdiction: str
) -> Iterator[Api]:
    """The API under a real jurisdiction's profile (other tests require no legal record)."""
    config = AuthorisationConfig(jurisdiction=jurisdiction)  # type: ignore[arg-type]
    settings = test_settings(tmp_path / "home", database, authorisation=config)
    services = Services(settings)
    services.__dict__["pack"] = pack
    yield from build_api(settings, clock, services=services)


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def _authorised(api: Api, photos: Path, *, hours: float = 48.0, **legal: Any) -> tuple[int, int]:
    """A deployment authorised with ``legal`` (and, if given, the authority's reference)."""
    reference = legal.pop("authority_reference", None)
    wl = api.call("POST", "/watchlists", MANAGER, json={"name": "wl"}).json()["id"]
    r = api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        MANAGER,
        json={
            "reference": "WL-1",
            "category": "wanted_on_warrant",
            "image_source": "custody",
            "images": [b64_image(photos / "obama_01.jpg")],
        },
    )
    assert r.status_code == 201, r.text
    subject = int(r.json()["id"])
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        MANAGER,
        json={
            "name": "Market day",
            "location": "Market Square",
            "purpose": "locate people wanted on warrant",
            "legal_basis": "force LFR policy v3",
            "planned_start": now.isoformat(),
            "planned_end": (now + timedelta(hours=hours)).isoformat(),
            "watchlist_id": wl,
            "calibration_id": api.calibration(),
            "cameras": [{"name": "cam-1", "source": "/dev/null"}],
            **legal,
        },
    )
    assert r.status_code == 201, r.text
    dep = int(r.json()["id"])
    body: dict[str, Any] = {"note": "necessary and proportionate"}
    if reference is not None:
        body["authority_reference"] = reference
    r = api.call("POST", f"/deployments/{dep}/authorise", OFFICER, json=body)
    assert r.status_code == 200, r.text
    return dep, subject


def _raise_alert(api: Api, dep: int, subject: int, photos: Path, **kw: Any) -> int:
    heard: list[int] = []
    api.plane.recorder.add_listener(lambda a: heard.append(a.id))
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    api.launcher.sessions[dep].on_alert(alert_input(dep, "cam-1", subject, crop, **kw))
    assert heard
    return heard[-1]


def _state(api: Api, dep: int) -> dict[str, Any]:
    r = api.call("GET", f"/deployments/{dep}", OFFICER)
    assert r.status_code == 200
    return dict(r.json())


def _alerts_and_blobs(api: Api, dep: int) -> tuple[int, list[str]]:
    with api.plane.database.session() as db:
        n = db.execute(
            select(func.count()).select_from(AlertRecord).where(AlertRecord.deployment_id == dep)
        ).scalar_one()
    return int(n), [b for b, _ in api.plane.blobs.stored()]


def _watchlist_state(api: Api, dep: int) -> str:
    wl_id = _state(api, dep)["watchlist_id"]
    with api.plane.database.session() as db:
        wl = db.get(WatchlistVersion, wl_id)
        assert wl is not None
        return str(wl.state)


@pytest.mark.parametrize(
    ("jurisdiction", "count"), [("uk", 4), ("eu", 6)], indirect=["jurisdiction"]
)
def test_a_blocked_go_live_lists_every_missing_item(
    api: Api, photos: Path, jurisdiction: str, count: int
) -> None:
    dep, _ = _authorised(api, photos)
    check = api.call("GET", f"/deployments/{dep}/go-live", OPERATOR).json()
    assert check["ready"] is False and len(check["reasons"]) == count
    assert "authority_reference" in check["missing"] and "signage" in check["missing"]
    assert ("impact_assessment_reference" in check["missing"]) == (jurisdiction == "eu")
    r = api.call("POST", f"/deployments/{dep}/start", OPERATOR, json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "authorisation_incomplete"
    message = r.json()["error"]["message"]
    assert all(reason in message for reason in check["reasons"])
    assert _state(api, dep)["state"] == "authorised"


@pytest.mark.parametrize(
    ("jurisdiction", "legal"), [("uk", FULL_UK), ("eu", FULL_EU)], indirect=["jurisdiction"]
)
def test_the_full_legal_record_goes_live(
    api: Api, photos: Path, jurisdiction: str, legal: dict[str, str]
) -> None:
    dep, _ = _authorised(api, photos, **legal, authority_reference="AUTH-77")
    r = api.call("POST", f"/deployments/{dep}/start", OPERATOR, json={})
    assert r.status_code == 409 and "signage" in r.json()["error"]["message"]
    r = api.call("POST", f"/deployments/{dep}/start", OPERATOR, json={"signage_confirmed": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "live" and body["signage_confirmed_by"] == "token:operator-svc"
    assert body["authority_reference"] == "AUTH-77" and body["urgent_deadline"] is None
    with api.plane.database.session() as db:
        started = [
            audit.details_of(e)
            for e in audit.iter_events(db, deployment_id=dep)
            if e.action == Action.DEPLOYMENT_STARTED
        ]
    assert started[-1]["jurisdiction"] == jurisdiction
    assert started[-1]["authority_reference"] == "AUTH-77"
    # The published record names the references a reader can look up, in JSON and CSV.
    with api.plane.database.session() as db:
        record = compute_record(db, dep, now=api.plane.clock.now())
    assert record.authorisation.authority_reference == "AUTH-77"
    assert record.authorisation.signage_confirmed_at is not None
    [row] = csv.DictReader(io.StringIO(records_csv([record])))
    assert row["authority_reference"] == "AUTH-77" and row["signage_confirmed_at"]
    for name in ("impact_assessment_reference", "registration_reference"):
        assert row[name] == (legal.get(name) or "")


def test_a_category_outside_the_profile_is_refused(api: Api, photos: Path) -> None:
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        MANAGER,
        json={
            "name": "x",
            "location": "x",
            "purpose": "x",
            "legal_basis": "x",
            "planned_start": now.isoformat(),
            "planned_end": (now + timedelta(hours=1)).isoformat(),
            "legal_basis_category": "art5_1h_i_targeted_search_victims",  # an EU category
        },
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_category"


def test_the_urgent_start_clock_stops_and_purges(
    api: Api, photos: Path, clock: ManualClock
) -> None:
    dep, subject = _authorised(api, photos, **FULL_UK)
    urgent = {"signage_confirmed": True, "urgent_reason": "a child missing since this morning"}
    r = api.call("POST", f"/deployments/{dep}/start", OPERATOR, json=urgent)
    assert r.status_code == 403 and r.json()["error"]["code"] == "urgent_not_allowed"
    started_at = clock.now()
    r = api.call("POST", f"/deployments/{dep}/start", COMMANDER, json=urgent)
    assert r.status_code == 200, r.text
    assert r.json()["urgent_deadline"].startswith(
        (started_at + timedelta(hours=24)).isoformat()[:19]
    )
    held = _raise_alert(api, dep, subject, photos)
    r = api.call(
        "POST",
        f"/alerts/{held}/hold",
        OFFICER,
        json={"hold": True, "reason": "evidence for a complaint"},
    )
    assert r.status_code == 200, r.text  # even a held alert goes: the use was never lawful
    _raise_alert(api, dep, subject, photos, track_id="8")
    assert _alerts_and_blobs(api, dep)[0] == 2

    clock.advance(hours=23, minutes=59)
    assert api.call("POST", "/retention/run", ADMIN).json()["deployments_revoked"] == []
    assert _state(api, dep)["state"] == "live"

    clock.advance(minutes=2)
    run = api.call("POST", "/retention/run", ADMIN).json()
    assert run["deployments_revoked"] == [dep] and run["deployments_stopped"] == [dep]
    after = _state(api, dep)
    assert after["state"] == "closed" and "urgent start" in after["revoked_reason"]
    assert after["runs"][-1]["ended_at"] is not None
    assert api.launcher.sessions[dep].stopped.is_set()  # the cameras stopped too
    alerts, blobs = _alerts_and_blobs(api, dep)
    assert alerts == 0 and blobs == [] and after["alerts_purged"] == 2
    assert _watchlist_state(api, dep) == WatchlistState.PURGED
    with api.plane.database.session() as db:
        actions = [e.action for e in audit.iter_events(db, deployment_id=dep)]
        assert audit.verify(db).ok
    for action in (Action.URGENT_START, Action.ALERTS_PURGED, Action.WATCHLIST_PURGED):
        assert action in actions
    assert actions.index(Action.DEPLOYMENT_REVOKED) > actions.index(Action.DEPLOYMENT_STOPPED)
    r = api.call("POST", f"/deployments/{dep}/start", COMMANDER, json=urgent)
    assert r.status_code == 409


def test_a_reference_in_time_ends_the_clock(api: Api, photos: Path, clock: ManualClock) -> None:
    dep, _ = _authorised(api, photos, **FULL_UK)
    urgent = {"signage_confirmed": True, "urgent_reason": "a credible threat to life today"}
    assert api.call("POST", f"/deployments/{dep}/start", OFFICER, json=urgent).status_code == 200
    clock.advance(hours=20)
    r = api.call("POST", f"/deployments/{dep}/authority", OPERATOR, json={"reference": "W-1"})
    assert r.status_code == 403  # officers and commanders only
    r = api.call("POST", f"/deployments/{dep}/authority", COMMANDER, json={"reference": "W-1"})
    assert r.status_code == 200 and r.json()["authority_reference"] == "W-1"
    clock.advance(hours=5)
    assert api.call("POST", "/retention/run", ADMIN).json()["deployments_revoked"] == []
    assert _state(api, dep)["state"] == "live"


def test_a_refused_authorisation_stops_and_purges_at_once(api: Api, photos: Path) -> None:
    dep, subject = _authorised(api, photos, **FULL_UK)
    urgent = {"signage_confirmed": True, "urgent_reason": "a credible threat to life today"}
    assert api.call("POST", f"/deployments/{dep}/start", OFFICER, json=urgent).status_code == 200
    _raise_alert(api, dep, subject, photos)
    refusal = {"refused": True, "reason": "not necessary: the person was found"}
    r = api.call("POST", f"/deployments/{dep}/authority", COMMANDER, json=refusal)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "closed" and body["authority_refused_by"] == "token:commander-svc"
    assert body["revoked_reason"].startswith("the authority refused")
    assert api.launcher.sessions[dep].stopped.is_set()
    assert _alerts_and_blobs(api, dep) == (0, [])
    # An alert the cameras had in flight is refused, not stored after the purge.
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    late = alert_input(dep, "cam-1", subject, crop, captured_at=api.plane.clock.now())
    with pytest.raises(Conflict, match="revoked"):
        api.launcher.sessions[dep].on_alert(late)
    assert _alerts_and_blobs(api, dep) == (0, [])
    assert _watchlist_state(api, dep) == WatchlistState.PURGED
    with api.plane.database.session() as db:
        actions = [e.action for e in audit.iter_events(db, deployment_id=dep)]
    assert Action.AUTHORITY_REFUSED in actions and Action.DEPLOYMENT_REVOKED in actions
    with api.plane.database.session() as db:
        refused = compute_record(db, dep, now=api.plane.clock.now()).authorisation
    assert refused.authority_refused_at is not None and refused.urgent_started_at is not None
    r = api.call("POST", f"/deployments/{dep}/authority", COMMANDER, json={"reference": "late"})
    assert r.status_code == 409


def test_a_live_deployment_stops_at_its_authorised_end(
    api: Api, photos: Path, clock: ManualClock
) -> None:
    dep, _ = _authorised(api, photos, hours=2, **FULL_UK, authority_reference="AUTH-1")
    r = api.call("POST", f"/deployments/{dep}/start", OPERATOR, json={"signage_confirmed": True})
    assert r.status_code == 200, r.text
    clock.advance(hours=1, minutes=59)
    assert api.call("POST", "/retention/run", ADMIN).json()["deployments_stopped"] == []
    clock.advance(minutes=2)
    assert api.call("POST", "/retention/run", ADMIN).json()["deployments_stopped"] == [dep]
    after = _state(api, dep)
    assert after["state"] == "authorised" and after["revoked_reason"] is None
    assert after["runs"][-1]["end_reason"] == "the authorised period ended"
    assert api.launcher.sessions[dep].stopped.is_set()
    assert api.call("POST", f"/deployments/{dep}/start", OPERATOR, json={}).status_code == 409


def test_cameras_are_fixed_from_authorisation(api: Api, photos: Path) -> None:
    dep, _ = _authorised(api, photos, **FULL_UK)
    body = {"name": "cam-2", "source": "/dev/null"}
    assert api.call("POST", f"/deployments/{dep}/cameras", MANAGER, json=body).status_code == 409
    with api.plane.database.session() as db:
        authorised = [
            audit.details_of(e)
            for e in audit.iter_events(db, deployment_id=dep)
            if e.action == Action.DEPLOYMENT_AUTHORISED
        ]
    assert authorised[0]["cameras"] == ["cam-1"]


def test_the_audit_floor_refuses_less_than_six_months() -> None:
    assert RetentionConfig().audit_floor_days >= 183
    with pytest.raises(ValidationError, match="six months"):
        RetentionConfig(audit_floor_days=90)
    assert RetentionConfig(audit_floor_days=1, audit_floor_test_mode=True).audit_floor_days == 1
