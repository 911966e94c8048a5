"""Two cameras on shared, batched models raise the same alerts as on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.alerts import CollectingSink
from openlfr.config import Settings
from openlfr.stream import CameraPipeline, Runner, parse_source, pipeline_factory
from openlfr.vision import ModelPack
from openlfr.vision.batching import BatchingRecogniser
from openlfr.watchlist import Gallery, LiveGallery

pytestmark = pytest.mark.realdata


def test_two_cameras_batched_together_each_alert_on_obama(
    clips: Path, pack: ModelPack, stills_gallery: Gallery
) -> None:
    settings = Settings(pipeline={"batching": {"mode": "on", "max_wait_ms": 20}})
    sink = CollectingSink()
    factory = pipeline_factory(
        settings, pack, LiveGallery(stills_gallery), watchlist="t", cameras=2
    )
    built: list[object] = []

    def keep(camera_id: str) -> CameraPipeline:
        pipeline = factory(camera_id)
        built.append(pipeline._pack.recogniser)
        return pipeline

    clip = clips / "obama_whcd_clip.mp4"
    specs = [parse_source(f"{name}={clip}") for name in ("a", "b")]
    runner = Runner(specs, keep, sink, settings.pipeline.source)
    runner.start()
    assert runner.wait(timeout=600)
    by_camera = sorted((a.camera_id, a.subject_id) for a in sink.alerts)
    assert by_camera == [("a", "barack_obama"), ("b", "barack_obama")]
    shared = built[0]
    assert isinstance(shared, BatchingRecogniser) and built[1] is shared
    stats = shared.batcher.stats()
    assert stats.items >= 4 and stats.requests >= stats.calls
