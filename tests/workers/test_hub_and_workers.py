"""The hub runs no pipeline: a supervised worker process runs the camera and delivers alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from workers_support import HubProcess, prepare, stored_alerts, wait_for

from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


@pytest.mark.slow
def test_a_worker_process_runs_the_camera_and_its_alerts_reach_the_hub(
    tmp_path: Path, pack: ModelPack, shared_data: Path
) -> None:
    prepared = prepare(tmp_path / "home", pack, shared_data)
    with HubProcess(prepared) as hub:
        hub.start_deployment()
        wait_for(
            lambda: len(stored_alerts(prepared.home / "openlfr.db", prepared.deployment_id)) >= 2,
            180,
            "two alerts stored",
            hub,
        )
        (worker,) = hub.workers()
        assert worker["name"] == "local-1"
        assert worker["heartbeat"]["pid"] != hub.process.pid  # type: ignore[union-attr]
        (camera,) = worker["heartbeat"]["cameras"]
        assert camera["state"] == "running" and camera["frames"] > 0
        r = hub.call("GET", "/workers", Role.WORKER)
        assert r.status_code == 403
