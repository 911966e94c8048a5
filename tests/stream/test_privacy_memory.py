"""Faces that do not alert leave no trace: not in files, logs or output, and not in memory."""

from __future__ import annotations

import base64
import io
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from openlfr.alerts import CollectingSink, FanOut, JsonLinesSink
from openlfr.config import Settings
from openlfr.matching import rules_from_settings
from openlfr.stream import CameraPipeline, EndOfSource, Runner, open_source, parse_source
from openlfr.types import Detection, FloatArray, ImageArray
from openlfr.vision import FaceRecogniser, ModelPack
from openlfr.watchlist import Gallery

pytestmark = pytest.mark.realdata


class SpyRecogniser(FaceRecogniser):
    """The real recogniser, keeping a copy of every crop and embedding it produces."""

    def __init__(self, inner: FaceRecogniser) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.crops: list[bytes] = []
        self.embeddings: list[bytes] = []

    def crop(self, image: ImageArray, detection: Detection) -> ImageArray:
        out = self.inner.crop(image, detection)
        self.crops.append(out.tobytes())
        return out

    def embed(self, crops: Sequence[ImageArray]) -> FloatArray:
        out = self.inner.embed(crops)
        self.embeddings += [row.astype(np.float32).tobytes() for row in out]
        return out


def needles(spy: SpyRecogniser) -> list[bytes]:
    """Byte patterns that would betray a crop or an embedding, raw or encoded."""
    out = []
    for crop in spy.crops:
        out += [crop[:336], crop[len(crop) // 2 : len(crop) // 2 + 336]]  # one row each
    for emb in spy.embeddings:
        out += [emb[:64], base64.b64encode(emb[:48]), emb[:64].hex().encode()]
    return out


def leaks(patterns: list[bytes], blobs: dict[str, bytes]) -> list[str]:
    return [name for name, blob in blobs.items() if any(p in blob for p in patterns)]


def files_under(*roots: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file()}


def test_a_crowd_run_leaves_no_trace_of_its_faces(
    clips: Path,
    pack: ModelPack,
    stills_gallery: Gallery,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    home, tmp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for d in (home, tmp, work):
        d.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPENLFR_HOME", str(home / ".openlfr"))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.chdir(work)
    caplog.set_level(logging.DEBUG)

    spy = SpyRecogniser(pack.recogniser)
    spied = ModelPack(detector=pack.detector, recogniser=spy, name=pack.name)
    settings = Settings()
    stdout_copy = io.StringIO()
    collected = CollectingSink()
    sink = FanOut([JsonLinesSink(), JsonLinesSink(stdout_copy), collected])

    def factory(camera_id: str) -> CameraPipeline:
        return CameraPipeline(
            camera_id,
            spied,
            stills_gallery,
            rules_from_settings(settings),
            settings.pipeline,
            watchlist="stills",
        )

    crowd = parse_source(f"crowd={clips / 'facenet_pytorch_video.mp4'}")
    runner = Runner([crowd], factory, sink, settings.pipeline.source)
    runner.start()
    assert runner.wait(300)
    status = runner.status()[0]
    sink.close()

    assert collected.alerts == []  # the premise: nobody in the crowd is on the watchlist
    assert status.counters.embeddings > 0 and len(spy.crops) > 0  # faces were really handled
    patterns = needles(spy)
    out = capfd.readouterr()
    texts = {
        "log records": "\n".join(r.getMessage() for r in caplog.records).encode(),
        "stdout": out.out.encode() + stdout_copy.getvalue().encode(),
        "stderr": out.err.encode(),
    }
    written = files_under(home, tmp, work)
    assert leaks(patterns, written) == []
    assert leaks(patterns, texts) == []
    assert status.held is not None and status.held.empty  # the camera ended: nothing held

    # The scan can fail: planted copies of one crop and one embedding are found.
    (work / "leak.bin").write_bytes(b"header" + spy.crops[0] + b"trailer")
    logging.getLogger("openlfr.stream").warning("oops %s", base64.b64encode(spy.embeddings[0]))
    logged = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert leaks(patterns, files_under(work)) == [str(work / "leak.bin")]
    assert leaks(patterns, {"log": logged}) == ["log"]


def test_crops_are_gone_from_memory_after_the_retention_window(
    clips: Path, pack: ModelPack, stills_gallery: Gallery
) -> None:
    settings = Settings()
    retention = settings.pipeline.retention_s
    assert retention <= 5.0
    now = [1_000.0]
    pipeline = CameraPipeline(
        "crowd",
        pack,
        stills_gallery,
        rules_from_settings(settings),
        settings.pipeline,
        watchlist="stills",
        clock=lambda: now[0],
    )
    most = 0
    limit = settings.pipeline.best_shot.max_looks_per_track + 1
    with open_source(
        parse_source(str(clips / "facenet_pytorch_video.mp4")), settings.pipeline.source
    ) as source:
        while True:
            try:
                frame = source.read(10.0)
            except EndOfSource:
                break
            if frame is None:
                continue
            assert pipeline.process(frame) == []
            now[0] += 0.04
            held = pipeline.held()
            most = max(most, held.crops)
            assert held.crops <= limit * max(held.tracks, 1)  # bounded per track
            del frame
        assert most > 0  # crops really were held while faces were in view
        now[0] += retention / 2
        pipeline.sweep()
        assert not pipeline.held().empty  # still inside the window
        now[0] += retention / 2 + 0.01
        pipeline.sweep()
        assert pipeline.held().empty
        assert pipeline.held().looks == 0
