"""The live link's launcher on the real pipeline: a clip in, alerts out, its end reported."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from openlfr.alert_records.service import AlertInput
from openlfr.api.testing import EXAMPLES
from openlfr.config import Settings
from openlfr.deployments.launcher import StreamLauncher
from openlfr.deployments.live import CameraPlan, LivePlan
from openlfr.services import Services
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.gallery import Gallery
from openlfr.watchlist.images import load_reference_image

CLIP = Path("videos") / "obama_whcd_clip.mp4"


def _template(pack: ModelPack, path: Path) -> np.ndarray:
    image = load_reference_image(path.read_bytes(), max_bytes=10**8, max_pixels=10**8)
    (face,) = pack.analyse(image)
    return face.embedding


def test_a_clip_raises_alerts_for_the_listed_subject_only(
    pack: ModelPack, shared_data: Path
) -> None:
    services = Services(Settings())
    services.__dict__["pack"] = pack
    photos = shared_data / EXAMPLES
    # Four references of the person in the clip (each a template), one of someone absent.
    obama = [photos / f"obama_0{i}.jpg" for i in range(1, 5)]
    gallery = Gallery(
        ["11"] * len(obama) + ["12"],
        np.stack([_template(pack, p) for p in [*obama, photos / "biden_01.jpg"]]),
        pack.model_id,
    )
    plan = LivePlan(
        deployment_id=5,
        cameras=(CameraPlan("door", str(shared_data / CLIP)),),
        gallery=gallery,
        threshold=services.settings.matching.threshold,
    )
    alerts: list[AlertInput] = []
    ended: list[str] = []
    done = threading.Event()

    def on_end(reason: str) -> None:
        ended.append(reason)
        done.set()

    session = StreamLauncher(services).launch(plan, alerts.append, on_end)
    assert done.wait(120), "the clip never ended"
    assert ended == ["door ended"]
    (status,) = session.status()
    assert status.frames == 60 and status.alerts == len(alerts) >= 1
    assert {a.subject_id for a in alerts} == {"11"}
    for alert in alerts:
        assert (alert.deployment_id, alert.camera) == (5, "door")
        assert alert.score >= plan.threshold
        crop = cv2.imdecode(np.frombuffer(alert.crop, np.uint8), cv2.IMREAD_COLOR)
        assert crop is not None and crop.shape[2] == 3
    session.stop()
