"""Retention with an injected clock: alerts expire with their crops unless held; a closed
deployment's watchlist and templates go within 24 h and its counts stay (invariants 2, 3)."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.alert_records.models import AlertRecord
from openlfr.api.testing import (
    EXAMPLES,
    Api,
    alert_input,
    build_api,
    live_scenario,
    probe_crop,
    test_settings,
)
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import RetentionConfig
from openlfr.privacy.retention import run_purge
from openlfr.services import Services
from openlfr.storage.engine import Database
from openlfr.storage.testing import ManualClock
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.watchlist_records.models import ReferenceImage, Subject, WatchlistVersion


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def _purge(api: Api) -> dict[str, int]:
    plane = api.plane
    report = run_purge(plane.database, plane.blobs, plane.clock, plane.settings.retention)
    return {k: v for k, v in asdict(report).items() if k != "at"}


def _count(api: Api, model: type) -> int:
    with api.plane.database.session() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_alerts_expire_with_their_crops_unless_on_legal_hold(api: Api, photos: Path) -> None:
    clock = api.plane.clock
    assert isinstance(clock, ManualClock)
    s = live_scenario(api, [photos / "obama_01.jpg"])
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    record = api.plane.recorder.record
    expiring = record(alert_input(s.deployment_id, s.camera, s.subject_id, crop))
    held = record(alert_input(s.deployment_id, s.camera, s.subject_id, crop, track_id="8"))
    r = api.call(
        "POST",
        f"/alerts/{held.id}/hold",
        Role.AUTHORISING_OFFICER,
        json={"hold": True, "reason": "complaint 2026/17 under investigation"},
    )
    assert r.status_code == 200
    clock.advance(days=31, seconds=-1)
    assert _purge(api)["alerts_purged"] == 0
    assert api.plane.blobs.exists(expiring.crop_blob_id)
    clock.advance(seconds=2)
    assert _purge(api)["alerts_purged"] == 1
    assert not api.plane.blobs.exists(expiring.crop_blob_id)
    assert api.plane.blobs.exists(held.crop_blob_id)
    assert api.call("GET", f"/alerts/{expiring.id}", Role.OPERATOR).status_code == 404
    assert api.call("GET", f"/alerts/{held.id}/crop", Role.OPERATOR).content == crop
    dep = api.call("GET", f"/deployments/{s.deployment_id}", Role.AUDITOR).json()
    assert (dep["alerts_total"], dep["alerts_purged"]) == (2, 1)
    with api.plane.database.session() as db:
        (event,) = audit.list_events(db, offset=0, limit=5, action=Action.ALERTS_PURGED)[0]
        assert audit.details_of(event)["alert_ids"] == [expiring.id]
    # Released from hold, it goes at the next run.
    api.call(
        "POST",
        f"/alerts/{held.id}/hold",
        Role.AUTHORISING_OFFICER,
        json={"hold": False, "reason": "investigation closed, no action"},
    )
    assert _purge(api)["alerts_purged"] == 1
    assert _count(api, AlertRecord) == 0


def test_closed_deployment_watchlist_is_purged_within_a_day_counts_remain(
    api: Api, photos: Path
) -> None:
    clock = api.plane.clock
    assert isinstance(clock, ManualClock)
    s = live_scenario(api, [photos / "obama_01.jpg", photos / "obama_02.jpg"])
    with api.plane.database.session() as db:
        image_blobs = list(db.execute(select(ReferenceImage.blob_id)).scalars())
    assert len(image_blobs) == 2
    crop = probe_crop(api.plane.services.pack, photos / "obama_03.jpg")
    api.plane.recorder.record(alert_input(s.deployment_id, s.camera, s.subject_id, crop))
    r = api.call(
        "POST",
        f"/deployments/{s.deployment_id}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "x", "pending_reason": "closing with the alert left undecided"},
    )
    assert r.status_code == 200, r.text
    clock.advance(hours=24)
    counts = _purge(api)
    assert counts["deployments_purged"] == 1 and counts["reference_images_purged"] == 2
    assert _count(api, Subject) == 0 and _count(api, ReferenceImage) == 0
    assert not any(api.plane.blobs.exists(b) for b in image_blobs)
    wl = api.call("GET", f"/watchlists/{s.watchlist_id}", Role.AUDITOR).json()
    assert (wl["state"], wl["subjects_purged"], wl["images_purged"]) == ("purged", 1, 2)
    dep = api.call("GET", f"/deployments/{s.deployment_id}", Role.AUDITOR).json()
    assert dep["purged_at"] is not None and dep["alerts_total"] == 1
    # The alert (its own retention clock) and the record of the deployment outlive the watchlist.
    alert = api.call("GET", "/alerts", Role.OPERATOR).json()["items"][0]
    assert alert["subject_reference"] == "WL-0001" and alert["subject_id"] is None
    record = api.call("GET", f"/audit/deployments/{s.deployment_id}/record", Role.AUDITOR).json()
    assert record["purged_at"] is not None and len(record["matches"]) == 1
    assert _purge(api)["deployments_purged"] == 0  # once only
    with api.plane.database.session() as db:
        assert audit.count_events(db, action=Action.WATCHLIST_PURGED) == 1
        assert audit.count_events(db, action=Action.RETENTION_RUN) == 2
        assert audit.verify(db).ok


def test_purge_waits_for_the_configured_grace(
    tmp_path: Path, database: Database, clock: ManualClock, pack: ModelPack, photos: Path
) -> None:
    settings = test_settings(
        tmp_path / "home", database, retention=RetentionConfig(closed_deployment_hours=12)
    )
    services = Services(settings)
    services.__dict__["pack"] = pack
    for api in build_api(settings, clock, services=services):
        s = live_scenario(api, [photos / "obama_01.jpg"])
        api.call("POST", f"/deployments/{s.deployment_id}/close", Role.AUTHORISING_OFFICER, json={})
        clock.advance(hours=11, minutes=59)
        assert _purge(api)["deployments_purged"] == 0
        clock.advance(minutes=1)
        assert _purge(api)["deployments_purged"] == 1
        assert _count(api, WatchlistVersion) == 1 and _count(api, Subject) == 0


def test_orphan_blobs_are_swept_once_old(api: Api) -> None:
    blobs = api.plane.blobs
    old = blobs.put(b"left behind by a crash", "alert-crop")
    young = blobs.put(b"a transaction still in flight", "alert-crop")
    now = api.plane.clock.now().timestamp()
    path = blobs.root / old[:2] / f"{old}.blob"
    os.utime(path, (now - 7200, now - 7200))
    os.utime(blobs.root / young[:2] / f"{young}.blob", (now, now))
    assert _purge(api)["orphan_blobs_deleted"] == 1
    assert not blobs.exists(old) and blobs.exists(young)
