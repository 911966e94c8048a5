"""Detection scheduling: whole frames at an interval, windows around tracked faces between."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.config import Settings
from openlfr.config.pipeline import DetectionScheduleConfig
from openlfr.matching import rules_from_settings
from openlfr.stream import CameraPipeline
from openlfr.stream.schedule import DetectionSchedule, Pass
from openlfr.types import Detections, Frame, ImageArray, Track
from openlfr.vision import ModelPack
from openlfr.vision.detector import FaceDetector
from openlfr.vision.regions import Windows
from openlfr.watchlist import Gallery

FRAME = np.zeros((360, 640, 3), np.uint8)
ONE = np.array([[100, 100, 140, 150]], np.float32)


class CountingDetector(FaceDetector):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def detect(self, image: ImageArray) -> Detections:
        self.calls.append(("full", 0))
        return Detections.empty()

    def detect_windows(self, image: ImageArray, windows: Windows) -> Detections:
        self.calls.append(("windows", len(windows)))
        return Detections.empty()


def passes(config: DetectionScheduleConfig, predicted: list[np.ndarray]) -> list[Pass]:
    schedule = DetectionSchedule(config, CountingDetector())
    return [schedule.detect(FRAME, p)[0] for p in predicted]


def test_interval_one_searches_every_frame_whole() -> None:
    got = passes(DetectionScheduleConfig(full_interval=1), [ONE] * 5)
    assert got == [Pass.FULL] * 5


def test_windows_between_full_passes_and_nothing_without_tracks() -> None:
    got = passes(DetectionScheduleConfig(full_interval=4), [ONE, ONE, ONE, ONE, ONE, ONE[:0]])
    assert got == [Pass.FULL, Pass.WINDOWS, Pass.WINDOWS, Pass.WINDOWS, Pass.FULL, Pass.NONE]


def test_a_crowd_is_searched_whole_when_windows_would_cost_more() -> None:
    # 640x360 frame = 230,400 px; 20 windows of 128^2 = 327,680 px.
    crowd = np.repeat(ONE, 20, axis=0)
    got = passes(DetectionScheduleConfig(full_interval=4), [ONE, crowd, ONE])
    assert got == [Pass.FULL, Pass.FULL, Pass.WINDOWS]


def test_reset_makes_the_next_frame_whole_and_timer_hears_each_pass() -> None:
    heard: list[tuple[str, float]] = []
    detector = CountingDetector()
    schedule = DetectionSchedule(DetectionScheduleConfig(full_interval=10), detector)
    for _ in range(3):
        schedule.detect(FRAME, ONE, lambda s, t: heard.append((s, t)))
    schedule.reset()
    schedule.detect(FRAME, ONE)
    assert detector.calls == [("full", 0), ("windows", 1), ("windows", 1), ("full", 0)]
    assert [s for s, _ in heard] == ["detect_full", "detect_windows", "detect_windows"]
    assert all(t >= 0 for _, t in heard)
    assert schedule.passes[Pass.FULL] == 2


def test_window_patches_must_batch_in_multiples_of_32() -> None:
    with pytest.raises(ValueError):
        DetectionScheduleConfig(window_size=100)


@pytest.mark.realdata
def test_a_walking_face_keeps_one_track_between_full_passes(
    shared_data: Path, pack: ModelPack
) -> None:
    face = cv2.imread(str(shared_data / "lfw-dev/images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg"))
    settings = Settings()
    config = settings.pipeline.model_copy(
        update={"detection": DetectionScheduleConfig(full_interval=5)}
    )
    pipeline = CameraPipeline(
        "cam",
        pack,
        Gallery([], np.zeros((0, 128), np.float32), pack.model_id),
        rules_from_settings(settings),
        config,
        watchlist="test",
    )
    heard: list[str] = []
    pipeline.timer = lambda stage, seconds: heard.append(stage)
    ids: set[int] = set()
    for i in range(20):  # 6 px a frame to the right at 25 fps
        frame = np.full((1080, 1920, 3), 90, np.uint8)
        x = 400 + 6 * i
        frame[500:750, x : x + 250] = face
        seen: list[int] = []

        def observe(_f: object, _d: object, tracks: Sequence[Track], _a: object) -> None:
            seen.extend(t.track_id for t in tracks)  # noqa: B023 - used at once

        pipeline.observer = observe
        pipeline.process(Frame(frame, "cam", i, 1000.0 + i / 25))
        if i >= 1:  # confirmed from its second sighting on
            assert len(seen) == 1, f"frame {i}: {seen}"
        ids.update(seen)
    assert ids == {1}
    assert pipeline.counters().faces == 20  # found in every frame, whole or windowed
    assert heard.count("detect_full") == 4 and heard.count("detect_windows") == 16
    assert {"track", "frame"} <= set(heard)
