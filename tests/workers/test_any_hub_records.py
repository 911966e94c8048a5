"""The hub that workers sync with follows the database: a deployment started, re-thresholded or
stopped through another hub process on the same database reaches the workers all the same."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openlfr.api.app import create_app
from openlfr.api.testing import EXAMPLES, Api, live_scenario
from openlfr.services import Services
from openlfr.storage.clock import Clock
from openlfr.users.roles import Role
from openlfr.workers.hub import WorkerHub


def _sync(hub: Api) -> list[dict[str, Any]]:
    body = {"heartbeat": {"worker": "van-1", "pid": 4242, "cameras": []}, "held": []}
    r = hub.call("POST", "/workers/sync", Role.WORKER, json=body)
    assert r.status_code == 200, r.text
    return list(r.json()["deployments"])


def _until(hub: Api, check: Callable[[list[dict[str, Any]]], bool], what: str) -> None:
    # Each sync is answered from what the hub held; what it must start or stop runs after.
    for _ in range(5):
        if check(_sync(hub)):
            return
    raise AssertionError(what)


@pytest.fixture
def other_hub(hub_api: Api, clock: Clock) -> Iterator[Api]:
    """A second hub process's app on the same database (its own WorkerHub, no workers)."""
    services = Services(hub_api.plane.settings)
    services.__dict__["pack"] = hub_api.plane.services.pack
    services.__dict__["database"] = hub_api.plane.database
    hub = WorkerHub()
    app = create_app(services=services, clock=clock, launcher=hub, background=False)
    with TestClient(app) as client:
        yield replace(hub_api, app=app, client=client, plane=app.state.plane, launcher=hub)  # type: ignore[arg-type]


def test_start_threshold_and_stop_through_another_hub_reach_the_workers(
    hub_api: Api, other_hub: Api, shared_data: Path
) -> None:
    photos = shared_data / EXAMPLES
    assert _sync(hub_api) == []
    # Planned, authorised and started through the other hub.
    s = live_scenario(other_hub, [photos / "obama_01.jpg", photos / "obama_02.jpg"])
    dep = s.deployment_id
    _until(
        hub_api,
        lambda got: (
            [d["deployment_id"] for d in got] == [dep]
            and [c["name"] for c in got[0]["cameras"]] == [s.camera]
        ),
        "the worker's hub took up the deployment started elsewhere",
    )
    threshold = other_hub.call("GET", f"/deployments/{dep}", Role.OPERATOR).json()["threshold"]
    r = other_hub.call(
        "POST",
        f"/deployments/{dep}/threshold",
        Role.AUTHORISING_OFFICER,
        json={"threshold": threshold + 0.05, "reason": "fewer false alerts in this crowd"},
    )
    assert r.status_code == 200, r.text
    _until(
        hub_api,
        lambda got: len(got) == 1 and got[0]["threshold"] == pytest.approx(threshold + 0.05),
        "the new threshold reached the worker",
    )
    r = other_hub.call(
        "POST", f"/deployments/{dep}/stop", Role.OPERATOR, json={"reason": "end of the shift"}
    )
    assert r.status_code == 200, r.text
    # Stopped anywhere: the very next answer no longer has it, and the hub lets it go.
    assert _sync(hub_api) == []
    assert hub_api.plane.live.running() == []
    assert _sync(hub_api) == []
