"""Which frames are searched whole for faces, and which only around the tracked ones."""

from __future__ import annotations

import time
from enum import StrEnum

from openlfr.config.pipeline import DetectionScheduleConfig
from openlfr.stream.timing import StageTimer
from openlfr.types import Detections, FloatArray, ImageArray
from openlfr.vision.detector import FaceDetector, YuNetDetector
from openlfr.vision.regions import windows_around


class Pass(StrEnum):
    """How one frame was searched for faces."""

    FULL = "detect_full"
    WINDOWS = "detect_windows"
    NONE = "detect_none"


class DetectionSchedule:
    """Full-frame detection every ``full_interval`` frames; windows around predictions between.

    One per camera (it counts that camera's frames). A frame whose windows would
    cost more than a full pass (a crowd) is searched whole, and that restarts the
    count; a frame with nothing to follow costs nothing until the next full pass.
    """

    def __init__(self, config: DetectionScheduleConfig, detector: FaceDetector) -> None:
        self.config = config
        self._detector = detector
        self._since_full: int | None = None  # None: the next frame is searched whole
        self.passes = {p: 0 for p in Pass}

    def reset(self) -> None:
        """The next frame is searched whole (the stream jumped or restarted)."""
        self._since_full = None

    def plan(self, image: ImageArray, predicted: FloatArray) -> Pass:
        cfg = self.config
        if self._since_full is None or self._since_full + 1 >= cfg.full_interval:
            return Pass.FULL
        if len(predicted) == 0:
            return Pass.NONE
        if len(predicted) * cfg.window_size**2 > cfg.max_window_share * self._full_pixels(image):
            return Pass.FULL
        return Pass.WINDOWS

    def detect(
        self, image: ImageArray, predicted: FloatArray, timer: StageTimer | None = None
    ) -> tuple[Pass, Detections]:
        """This frame's detections, found the way :meth:`plan` says."""
        how = self.plan(image, predicted)
        started = time.perf_counter()
        if how is Pass.FULL:
            found = self._detector.detect(image)
            self._since_full = 0
        else:
            cfg = self.config
            found = (
                Detections.empty()
                if how is Pass.NONE
                else self._detector.detect_windows(
                    image,
                    windows_around(
                        predicted,
                        scale=cfg.window_scale,
                        size=cfg.window_size,
                        min_side=cfg.window_size / 4,
                    ),
                )
            )
            self._since_full = (self._since_full or 0) + 1
        self.passes[how] += 1
        if timer is not None:
            timer(how.value, time.perf_counter() - started)
        return how, found

    def _full_pixels(self, image: ImageArray) -> float:
        height, width = int(image.shape[0]), int(image.shape[1])
        target = width
        if isinstance(self._detector, YuNetDetector):
            target = min(width, self._detector.config.input_width or width)
        return float(target * height * target) / max(width, 1)
