"""Deployments over the API: the state machine, its guards, and the live link's hooks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from openlfr.api.testing import EXAMPLES, Api, b64_image, live_scenario
from openlfr.storage.testing import ManualClock
from openlfr.users.roles import Role

OFFICER, OPERATOR, MANAGER = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.WATCHLIST_MANAGER


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def _plan(api: Api, **overrides: Any) -> dict[str, Any]:
    now = api.plane.clock.now()
    body: dict[str, Any] = {
        "name": "Saturday market",
        "location": "Market Square",
        "purpose": "locate people wanted on warrant",
        "legal_basis": "force LFR policy v3",
        "planned_start": now.isoformat(),
        "planned_end": (now + timedelta(hours=6)).isoformat(),
    }
    body.update(overrides)
    r = api.call("POST", "/deployments", MANAGER, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _subject(api: Api, wl: int, photo: Path, **extra: Any) -> None:
    r = api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        MANAGER,
        json={
            "reference": extra.pop("reference", "WL-1"),
            "category": "wanted_on_warrant",
            "image_source": "custody",
            "images": [b64_image(photo)],
            **extra,
        },
    )
    assert r.status_code == 201, r.text


def test_draft_defaults_and_validation(api: Api) -> None:
    dep = _plan(api)
    assert dep["state"] == "draft"
    assert dep["threshold"] == api.plane.settings.matching.threshold
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        MANAGER,
        json={
            "name": "x",
            "location": "y",
            "purpose": "z",
            "legal_basis": "w",
            "planned_start": now.isoformat(),
            "planned_end": (now - timedelta(hours=1)).isoformat(),
            "threshold": 1.5,
        },
    )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["fields"]}
    assert "body.threshold" in fields


def test_cannot_authorise_an_incomplete_plan(api: Api, photos: Path) -> None:
    dep = _plan(api)
    r = api.call("POST", f"/deployments/{dep['id']}/authorise", OFFICER, json={})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.watchlist_id"
    wl = api.call("POST", "/watchlists", MANAGER, json={"name": "empty"}).json()["id"]
    api.call("PATCH", f"/deployments/{dep['id']}", MANAGER, json={"watchlist_id": wl})
    r = api.call("POST", f"/deployments/{dep['id']}/authorise", OFFICER, json={})
    assert r.json()["error"]["fields"][0]["field"] == "body.cameras"
    api.call(
        "POST", f"/deployments/{dep['id']}/cameras", MANAGER, json={"name": "c1", "source": "x"}
    )
    r = api.call("POST", f"/deployments/{dep['id']}/authorise", OFFICER, json={})
    assert r.status_code == 422 and "empty" in r.json()["error"]["message"]
    # A subject whose authority ends before the deployment does is refused.
    soon = (api.plane.clock.now() + timedelta(hours=1)).isoformat()
    _subject(api, wl, photos / "obama_01.jpg", expires_at=soon)
    r = api.call("POST", f"/deployments/{dep['id']}/authorise", OFFICER, json={})
    assert r.status_code == 422 and r.json()["error"]["code"] == "subjects_expire"
    # It cannot go live unauthorised.
    r = api.call("POST", f"/deployments/{dep['id']}/start", OPERATOR)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"


def test_live_cycle_threshold_and_close(api: Api, photos: Path) -> None:
    s = live_scenario(api, [photos / "obama_01.jpg"])
    session = api.launcher.sessions[s.deployment_id]
    assert session.plan.cameras[0].name == "cam-1"
    assert len(session.plan.gallery) == 1 and session.plan.gallery.subjects == (str(s.subject_id),)
    dep = api.call("GET", f"/deployments/{s.deployment_id}", OPERATOR).json()
    assert dep["state"] == "live" and len(dep["runs"]) == 1
    # The plan is fixed once authorised.
    r = api.call("PATCH", f"/deployments/{s.deployment_id}", OFFICER, json={"name": "other"})
    assert r.status_code == 409
    # Threshold while live: only with a reason, and the running pipeline follows.
    path = f"/deployments/{s.deployment_id}/threshold"
    r = api.call("POST", path, OFFICER, json={"threshold": 0.6, "reason": "too many"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.reason"
    r = api.call(
        "POST", path, OFFICER, json={"threshold": 0.6, "reason": "false alerts on the first hour"}
    )
    assert r.status_code == 200 and r.json()["threshold"] == 0.6
    assert session.threshold == 0.6
    # Stop, start again (a second period of use), close.
    r = api.call("POST", f"/deployments/{s.deployment_id}/stop", OPERATOR, json={"reason": "rain"})
    assert r.json()["state"] == "authorised" and session.stopped.is_set()
    r = api.call("POST", f"/deployments/{s.deployment_id}/start", OPERATOR)
    assert r.json()["state"] == "live" and len(r.json()["runs"]) == 2
    second = api.launcher.sessions[s.deployment_id]
    assert second is not session and second.threshold == 0.6
    r = api.call("POST", f"/deployments/{s.deployment_id}/close", OFFICER, json={"reason": "done"})
    closed = r.json()
    assert closed["state"] == "closed" and second.stopped.is_set()
    assert all(run["ended_at"] for run in closed["runs"])
    assert closed["purge_due_at"] is not None
    r = api.call("POST", f"/deployments/{s.deployment_id}/start", OPERATOR)
    assert r.status_code == 409


def test_start_only_within_the_authorised_window(api: Api, photos: Path) -> None:
    clock = api.plane.clock
    assert isinstance(clock, ManualClock)
    s = live_scenario(api, [photos / "obama_01.jpg"], hours=2)
    api.call("POST", f"/deployments/{s.deployment_id}/stop", OPERATOR, json={})
    clock.advance(hours=3)
    r = api.call("POST", f"/deployments/{s.deployment_id}/start", OPERATOR)
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_late"


def test_a_pipeline_that_cannot_start_is_recorded_as_stopped(api: Api, photos: Path) -> None:
    api.plane.live._launcher = None  # a server without a live pipeline
    s = live_scenario(api, [photos / "obama_01.jpg"])
    dep = api.call("GET", f"/deployments/{s.deployment_id}", OPERATOR).json()
    assert dep["state"] == "authorised"
    assert "no live pipeline" in dep["runs"][0]["end_reason"]


def test_server_stop_and_restart_record_the_end_of_use(api: Api, photos: Path) -> None:
    s = live_scenario(api, [photos / "obama_01.jpg"])
    session = api.launcher.sessions[s.deployment_id]
    api.plane.live.shutdown()
    assert session.stopped.is_set()
    dep = api.call("GET", f"/deployments/{s.deployment_id}", OPERATOR).json()
    assert dep["state"] == "authorised" and dep["runs"][-1]["end_reason"] == "server stopped"
    # A process that died without stopping leaves the deployment live: the next start ends it.
    assert api.call("POST", f"/deployments/{s.deployment_id}/start", OPERATOR).status_code == 200
    api.plane.live._sessions.clear()  # as if the process had died
    api.plane.live.resume_or_stop_orphans(resume=False)
    dep = api.call("GET", f"/deployments/{s.deployment_id}", OPERATOR).json()
    assert dep["state"] == "authorised" and dep["runs"][-1]["end_reason"] == "server restarted"
