"""Invariant 1 on a worker: a face that raises no alert reaches neither the spool nor the wire.

A worker in this process runs a real crowd clip of people who are not listed,
against a hub faked at the HTTP edge that records every byte the worker sends.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from openlfr.config import Settings
from openlfr.privacy.crypto import BlobCipher
from openlfr.services import Services
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.gallery import Gallery
from openlfr.watchlist.images import load_reference_image
from openlfr.workers.agent import WorkerAgent
from openlfr.workers.protocol import Assignment, Assignments, CameraAssignment
from openlfr.workers.spool import Spool

pytestmark = pytest.mark.realdata
CROWD = Path("videos") / "facenet_pytorch_video.mp4"
PHOTOS = Path("small") / "face_recognition_examples" / "images"


class RecordingHub:
    """Answers a worker's syncs with one assignment; keeps every request body it was sent."""

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self.bodies: list[bytes] = []
        self.beats: list[dict[str, object]] = []
        self.changed = threading.Condition()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        if request.url.path.endswith("/workers/sync"):
            with self.changed:
                self.beats.append(json.loads(request.content)["heartbeat"])
                self.changed.notify_all()
            reply = Assignments(worker="van-1", deployments=[self.assignment])
            return httpx.Response(200, content=reply.model_dump_json())
        return httpx.Response(500)  # no alert is expected; none may be acknowledged

    def wait_for_camera(self, state: str, timeout: float) -> dict[str, object]:
        with self.changed:
            ok = self.changed.wait_for(
                lambda: any(
                    c["state"] == state
                    for b in self.beats[-1:]
                    for c in b["cameras"]  # type: ignore[attr-defined]
                ),
                timeout,
            )
        assert ok, f"the camera never reached {state}: {self.beats[-1:]}"
        return self.beats[-1]


def test_a_worker_keeps_and_sends_nothing_of_faces_that_raised_no_alert(
    tmp_path: Path, pack: ModelPack, shared_data: Path
) -> None:
    obama = load_reference_image(
        (shared_data / PHOTOS / "obama_01.jpg").read_bytes(), max_bytes=10**8, max_pixels=10**8
    )
    (face,) = pack.analyse(obama)
    gallery = Gallery(["7"], face.embedding[None, :], pack.model_id)
    camera = CameraAssignment(name="crowd", source=str(shared_data / CROWD))
    hub = RecordingHub(Assignment.of(3, 1, 0.55, [camera], gallery))
    services = Services(Settings(home=tmp_path / "home"))
    services.__dict__["pack"] = pack
    spool_dir = tmp_path / "spool"
    spool = Spool(spool_dir / "spool.sqlite3", BlobCipher(b"k" * 32))
    client = httpx.Client(base_url="http://hub", transport=httpx.MockTransport(hub))
    agent = WorkerAgent(services, client, "van-1", spool, sync_s=0.2)
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    try:
        beat = hub.wait_for_camera("ended", 300)
        held = agent.held()
    finally:
        agent.stop()
        runner.join(60)
    (cam,) = beat["cameras"]  # type: ignore[misc]
    assert cam["faces"] > 0 and cam["alerts"] == 0  # faces were seen, none was listed
    assert held and all(h.empty for h in held)  # nothing of them left in memory
    assert spool.stats().accepted == 0 and spool.stats().depth == 0
    spool.close()
    on_disk = b"".join(p.read_bytes() for p in spool_dir.rglob("*") if p.is_file())
    for magic in (b"\x89PNG", b"\xff\xd8\xff", b"iVBORw0KGgo", b"/9j/"):  # PNG/JPEG, raw or base64
        assert magic not in on_disk
        assert not any(magic in body for body in hub.bodies)
    # What crossed the wire is counts and states: no image, no embedding, no crop field.
    assert not any(b'"crop"' in body or b"templates" in body for body in hub.bodies)
    assert all(set(json.loads(b)) <= {"heartbeat", "held"} for b in hub.bodies)
    assert np.all(np.isfinite(face.embedding))
