"""The workers' routes: assignments with the frozen gallery, alerts stored once, nothing more."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from openlfr.api.testing import EXAMPLES, Api, live_scenario, probe_crop
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.context import Actor
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


def heartbeat(**kw: Any) -> dict[str, Any]:
    return {"heartbeat": {"worker": "van-1", "pid": 4242, "cameras": [], **kw}, "held": []}


@pytest.fixture
def live(hub_api: Api, shared_data: Path) -> Any:
    photos = shared_data / EXAMPLES
    return live_scenario(hub_api, [photos / "obama_01.jpg", photos / "obama_02.jpg"])


def delivery(live: Any, uid: str, crop: bytes) -> dict[str, Any]:
    return {
        "uid": uid,
        "deployment_id": live.deployment_id,
        "camera": live.camera,
        "subject_id": str(live.subject_id),
        "score": 0.73,
        "track_id": "9",
        "captured_at": "2026-01-05T09:00:00+00:00",
        "crop": base64.b64encode(crop).decode(),
    }


def test_a_worker_gets_its_cameras_and_the_frozen_gallery(
    hub_api: Api, live: Any, pack: ModelPack
) -> None:
    r = hub_api.call("POST", "/workers/sync", Role.WORKER, json=heartbeat())
    assert r.status_code == 200, r.text
    (assignment,) = r.json()["deployments"]
    assert assignment["deployment_id"] == live.deployment_id
    assert [c["name"] for c in assignment["cameras"]] == [live.camera]
    from openlfr.workers.protocol import Assignment

    gallery = Assignment.model_validate(assignment).gallery()
    assert gallery.subjects == (str(live.subject_id),)
    assert gallery.model_id == pack.model_id


def test_an_alert_delivered_twice_is_stored_once(
    hub_api: Api, live: Any, pack: ModelPack, shared_data: Path
) -> None:
    crop = probe_crop(pack, shared_data / EXAMPLES / "obama_03.jpg")
    body = delivery(live, "0123456789abcdef0123456789abcdef", crop)
    first = hub_api.call("POST", "/workers/alerts", Role.WORKER, json=body)
    second = hub_api.call("POST", "/workers/alerts", Role.WORKER, json=body)
    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    assert first.json()["alert_id"] == second.json()["alert_id"]
    listed = hub_api.call("GET", "/alerts", Role.OPERATOR).json()
    assert listed["total"] == 1


def test_an_alert_for_a_closed_deployment_is_refused_for_good_and_reported_closed(
    hub_api: Api, live: Any, pack: ModelPack, shared_data: Path
) -> None:
    r = hub_api.call(
        "POST",
        f"/deployments/{live.deployment_id}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "operation over"},
    )
    assert r.status_code == 200, r.text
    hub_api.plane.clock.advance(minutes=5)  # type: ignore[attr-defined]  # past the late grace
    crop = probe_crop(pack, shared_data / EXAMPLES / "obama_03.jpg")
    r = hub_api.call("POST", "/workers/alerts", Role.WORKER, json=delivery(live, "f" * 32, crop))
    assert r.status_code == 409  # the worker drops it: a closed deployment keeps no new alert
    body = heartbeat()
    body["held"] = [live.deployment_id]
    r = hub_api.call("POST", "/workers/sync", Role.WORKER, json=body)
    assert r.json() == {
        "worker": "van-1",
        "deployments": [],
        "closed": [live.deployment_id],
        "preview": [],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/alerts"),
        ("GET", "/users"),
        ("GET", "/audit/events"),
        ("GET", "/deployments"),
        ("GET", "/watchlists"),
        ("GET", "/workers"),
    ],
)
def test_a_worker_token_opens_nothing_but_its_own_routes(
    hub_api: Api, method: str, path: str
) -> None:
    assert hub_api.call(method, path, Role.WORKER).status_code == 403


def test_only_a_worker_may_sync_or_deliver(hub_api: Api) -> None:
    for role in Role:
        if role is not Role.WORKER:
            r = hub_api.call("POST", "/workers/sync", role, json=heartbeat())
            assert r.status_code == 403, role


def test_metrics_count_deliveries_and_name_no_subject(
    hub_api: Api, live: Any, pack: ModelPack, shared_data: Path
) -> None:
    crop = probe_crop(pack, shared_data / EXAMPLES / "obama_03.jpg")
    body = delivery(live, "abcdefabcdefabcdefabcdefabcdef12", crop)
    for _ in range(2):
        assert hub_api.call("POST", "/workers/alerts", Role.WORKER, json=body).status_code == 200
    hub_api.call("POST", "/workers/sync", Role.WORKER, json=heartbeat(spool_depth=3))
    r = hub_api.call("GET", "/metrics", Role.AUDITOR)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'openlfr_hub_alert_deliveries_total{outcome="stored"} 1.0' in text
    assert 'openlfr_hub_alert_deliveries_total{outcome="duplicate"} 1.0' in text
    assert "openlfr_hub_capture_to_stored_seconds_count 1.0" in text
    assert 'openlfr_hub_worker_spool_depth{worker="van-1"} 3.0' in text
    assert 'openlfr_hub_cameras{state="unassigned"}' not in text  # van-1 took the camera
    for secret in ("WL-0001", "obama", "wanted_on_warrant"):
        assert secret not in text
    assert hub_api.call("GET", "/metrics", None).status_code == 401


def test_an_alarm_raised_during_a_sync_reaches_the_audit_log(hub_api: Api, live: Any) -> None:
    # The sync request holds the database's write lock (SQLite) while the hub judges the
    # cameras: an alarm recorded on that thread waited on the lock until it timed out.
    assert hub_api.call("POST", "/workers/sync", Role.WORKER, json=heartbeat()).status_code == 200
    full = {
        "deployment_id": live.deployment_id,
        "name": live.camera,
        "state": "spool_full",
        "error": "500 alerts waiting",
    }
    r = hub_api.call("POST", "/workers/sync", Role.WORKER, json=heartbeat(cameras=[full]))
    assert r.status_code == 200, r.text
    hub_api.plane.wait_for_alarms()
    with hub_api.plane.work(Actor.system("test")) as ctx:
        alarms = [
            audit.details_of(e)
            for e in audit.iter_events(ctx.db, deployment_id=live.deployment_id)
            if e.action == Action.CAMERA_ALARM
        ]
    assert alarms == [{"state": "spool_full", "error": "500 alerts waiting"}]
