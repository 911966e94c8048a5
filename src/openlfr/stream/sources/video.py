"""Video files, network streams (RTSP, HTTP) and V4L2 webcams, decoded by PyAV (FFmpeg).

PyAV was chosen over OpenCV's ``VideoCapture`` (both wrap FFmpeg): it decoded
the 1080p H.264 test clip at least as fast here (``bench/pipeline.py
--decoders`` measures both), and it exposes what a camera pipeline needs and
``VideoCapture`` hides: open and read timeouts, RTSP transport options,
presentation timestamps, typed errors, and decoded pictures that are only
converted to BGR when the pipeline takes them (frames dropped by the
newest-frame rule skip the conversion).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from fractions import Fraction
from functools import partial
from typing import Any

import av
import numpy as np

from openlfr.stream.sources import hwaccel
from openlfr.stream.sources.base import FrameSource, SourceError
from openlfr.stream.sources.spec import SourceKind, scrub
from openlfr.types import ImageArray


def _to_bgr(frame: Any) -> ImageArray:
    return np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


class VideoSource(FrameSource):
    """A file, ``rtsp://``/``http://`` stream, or ``webcam:N`` (``/dev/videoN``) via PyAV."""

    _container: Any = None
    _frames: Iterator[Any] | None = None
    _first: Any = None
    _time_base: float = 0.0
    _start_pts: int | None = None
    _fps: float = 25.0
    decoder: str = "cpu"  # the hardware device type decoding, or "cpu"

    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self._fps

    def _target(self) -> tuple[str, str | None, dict[str, str]]:
        spec = self.spec
        if spec.kind is SourceKind.WEBCAM:
            device = f"/dev/video{spec.location.split(':', 1)[1]}"
            if not os.path.exists(device):
                raise SourceError(f"{spec.camera_id}: no such webcam: {device} does not exist")
            return device, "v4l2", {}
        if spec.kind is SourceKind.STREAM:
            options: dict[str, str] = {}
            if spec.location.lower().startswith(("rtsp://", "rtsps://")):
                options["rtsp_transport"] = self.config.rtsp_transport
            return spec.location, None, options
        if not os.path.isfile(spec.location):
            raise SourceError(f"{spec.camera_id}: no such file: {spec.location}")
        return spec.location, None, {}

    def _open(self) -> None:
        self._close()
        target, fmt, options = self._target()
        what = f"{self.spec.camera_id} ({self.spec.display})"
        timeout = (self.config.open_timeout_s, self.config.read_timeout_s)
        container = None
        self.decoder = "cpu"
        for device in hwaccel.candidates(self.config.hwaccel, hwaccel.ffmpeg_devices()):
            try:
                container = av.open(
                    target,
                    format=fmt,
                    options=options,
                    timeout=timeout,
                    hwaccel=hwaccel.hwaccel_for(device),
                )
            except Exception as exc:  # no device, no driver, no permission: the CPU decodes
                hwaccel.mark_failed(device, scrub(str(exc), self.spec.location))
                continue
            self.decoder = device
            break
        try:
            if container is None:
                container = av.open(target, format=fmt, options=options, timeout=timeout)
        except Exception as exc:  # PyAV maps FFmpeg errors to many OSError subclasses
            raise SourceError(
                f"{what}: cannot open: {scrub(str(exc), self.spec.location)}"
            ) from None
        try:
            if not container.streams.video:
                raise SourceError(f"{what}: holds no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name if stream.codec_context else "unknown"
            frames = container.decode(stream)
            try:
                # Decode one picture now so an undecodable codec fails here, clearly.
                first = next(frames)
            except StopIteration:
                raise SourceError(f"{what}: holds no decodable video frames") from None
            except SourceError:
                raise
            except Exception as exc:
                raise SourceError(
                    f"{what}: cannot decode its video (codec {codec}): "
                    f"{scrub(str(exc), self.spec.location)}"
                ) from None
        except BaseException:
            container.close()
            raise
        if self.decoder != "cpu" and not getattr(stream.codec_context, "is_hwaccel", False):
            # The device opened but cannot decode this codec: FFmpeg fell back to software.
            hwaccel.mark_failed(self.decoder, f"it cannot decode {codec}")
            self.decoder = "cpu"
        self._container = container
        self._frames = frames
        self._first = first
        self._time_base = float(stream.time_base or Fraction(1, 90000))
        self._start_pts = None
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else 25.0

    def _duration_s(self) -> float | None:
        container = self._container
        if container is None or not container.streams.video:
            return None
        stream = container.streams.video[0]
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return float(container.duration) / 1_000_000  # FFmpeg's AV_TIME_BASE
        if stream.frames:
            return float(stream.frames) / self._fps
        return None

    def _decode(self) -> Iterator[tuple[float | None, Callable[[], ImageArray]]]:
        frames = self._frames
        if frames is None:
            return
        index = 0
        first, self._first = self._first, None
        pending = [first] if first is not None else []
        while True:
            if pending:
                frame = pending.pop()
            else:
                try:
                    frame = next(frames)
                except StopIteration:
                    return
            yield self._media_time(frame, index), partial(_to_bgr, frame)
            index += 1

    def _media_time(self, frame: Any, index: int) -> float | None:
        if self.live:
            return None
        if frame.pts is None:
            return index / self._fps
        if self._start_pts is None:
            self._start_pts = int(frame.pts)
        return (int(frame.pts) - self._start_pts) * self._time_base

    def _close(self) -> None:
        container, self._container = self._container, None
        self._frames = None
        self._first = None
        if container is not None:
            # Closing a broken stream can fail; there is nothing left to keep.
            with contextlib.suppress(Exception):
                container.close()
