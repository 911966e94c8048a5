"""A worker follows its assignments: a camera the hub moves elsewhere stops here."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from openlfr.config import Settings
from openlfr.privacy.crypto import BlobCipher
from openlfr.services import Services
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.gallery import Gallery
from openlfr.workers.agent import WorkerAgent
from openlfr.workers.protocol import Assignment, Assignments, CameraAssignment
from openlfr.workers.spool import Spool


def test_a_camera_moved_to_another_worker_without_a_new_version_stops_here(
    tmp_path: Path, pack: ModelPack
) -> None:
    services = Services(Settings(home=tmp_path / "home"))
    services.__dict__["pack"] = pack
    spool = Spool(tmp_path / "spool" / "spool.sqlite3", BlobCipher(b"k" * 32))
    client = httpx.Client(base_url="http://hub", transport=httpx.MockTransport(lambda _: None))
    agent = WorkerAgent(services, client, "ray-1", spool)
    gallery = Gallery(["1"], np.eye(1, pack.recogniser.dim, dtype=np.float32), pack.model_id)
    # Files that do not exist: the cameras fail at once, but they are this worker's to report.
    cams = [CameraAssignment(name=f"cam-{i}", source=str(tmp_path / f"{i}.mp4")) for i in (1, 2)]

    def assign(*cameras: CameraAssignment) -> Assignments:
        return Assignments(
            worker="ray-1", deployments=[Assignment.of(7, 1, 0.5, list(cameras), gallery)]
        )

    try:
        agent.apply(assign(*cams))
        assert sorted(c.name for c in agent.heartbeat().cameras) == ["cam-1", "cam-2"]
        agent.apply(assign(cams[1]))  # cam-1 went to another worker; the version is the same
        assert [c.name for c in agent.heartbeat().cameras] == ["cam-2"]
        agent.apply(assign(*cams))  # and came back
        assert sorted(c.name for c in agent.heartbeat().cameras) == ["cam-1", "cam-2"]
        agent.apply(Assignments(worker="ray-1", deployments=[]))
        assert agent.heartbeat().cameras == []
    finally:
        agent.apply(Assignments(worker="ray-1", deployments=[]))
        spool.close()
