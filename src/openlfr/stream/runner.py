"""Runs several cameras in one process, one thread each, isolated from one another.

Each camera opens its own source (a slow or dead stream never delays the
others), runs its own :class:`CameraPipeline`, and sends alerts to one shared
sink. A camera that fails is marked failed with its reason; the rest carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from openlfr.alerts.sink import AlertSink
from openlfr.config.pipeline import SourceConfig
from openlfr.stream.pipeline import CameraCounters, CameraPipeline, HeldInMemory
from openlfr.stream.sources import (
    EndOfSource,
    FrameSource,
    SourceError,
    SourceSpec,
    SourceState,
    SourceStats,
    open_source,
    scrub,
)
from openlfr.stream.timing import StageTimer

log = logging.getLogger("openlfr.stream")

PipelineFactory = Callable[[str], CameraPipeline]

# How long a camera thread waits for a frame before sweeping expired crops.
_IDLE_POLL_S = 0.25


class CameraState(StrEnum):
    """Where a camera is in its life."""

    STARTING = "starting"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """A camera's state and counters at one moment (no face data)."""

    camera_id: str
    source: str  # the location with credentials masked
    state: CameraState
    error: str | None
    counters: CameraCounters
    source_stats: SourceStats | None
    held: HeldInMemory | None

    @property
    def dropped(self) -> int:
        return self.source_stats.dropped if self.source_stats else 0


@dataclass(slots=True)
class _Camera:
    spec: SourceSpec
    state: CameraState = CameraState.STARTING
    error: str | None = None
    source: FrameSource | None = None
    pipeline: CameraPipeline | None = None
    thread: threading.Thread | None = None
    finished: threading.Event = field(default_factory=threading.Event)


class Runner:
    """Several cameras, one thread each, sharing one alert sink.

    Example::

        runner = Runner(specs, factory, sink, settings.pipeline.source)
        runner.start()
        runner.wait()          # returns when every file ended, or after stop()
        runner.stop()

    Args:
        cameras: one source per camera (distinct camera ids).
        pipeline_factory: builds the pipeline of a camera, given its id.
        sink: receives every alert (called from camera threads).
        source_config: how sources are read.
        stage_timer: told how long each frame spent in each stage (metrics).
    """

    def __init__(
        self,
        cameras: Sequence[SourceSpec],
        pipeline_factory: PipelineFactory,
        sink: AlertSink,
        source_config: SourceConfig,
        *,
        stage_timer: StageTimer | None = None,
    ) -> None:
        ids = [c.camera_id for c in cameras]
        if len(set(ids)) != len(ids):
            raise ValueError(f"camera ids must be distinct, got {ids}")
        if not cameras:
            raise ValueError("at least one camera source is required")
        self._cameras = [_Camera(spec) for spec in cameras]
        self._factory = pipeline_factory
        self._sink = sink
        self._source_config = source_config
        self._timer = stage_timer
        self._stop = threading.Event()
        self.started_at: float | None = None

    def start(self) -> None:
        """Start every camera's thread (sources open inside them)."""
        self.started_at = time.time()
        for camera in self._cameras:
            camera.thread = threading.Thread(
                target=self._run_camera, args=(camera,), name=f"camera-{camera.spec.camera_id}"
            )
            camera.thread.daemon = True
            camera.thread.start()

    def stop(self) -> None:
        """Ask every camera to stop; returns at once (use :meth:`wait`)."""
        self._stop.set()
        for camera in self._cameras:
            if camera.source is not None:
                camera.source.stop(timeout=0.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every camera has finished; False if ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for camera in self._cameras:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not camera.finished.wait(remaining):
                return False
        return True

    @property
    def done(self) -> bool:
        return all(c.finished.is_set() for c in self._cameras)

    def status(self) -> list[CameraStatus]:
        """Every camera's state and counters now."""
        out = []
        for camera in self._cameras:
            stats = camera.source.stats() if camera.source else None
            state = camera.state
            if state is CameraState.RUNNING and stats and stats.state is SourceState.RECONNECTING:
                state = CameraState.RECONNECTING
            out.append(
                CameraStatus(
                    camera_id=camera.spec.camera_id,
                    source=camera.spec.display,
                    state=state,
                    error=camera.error,
                    counters=camera.pipeline.counters() if camera.pipeline else CameraCounters(),
                    source_stats=stats,
                    held=camera.pipeline.held() if camera.pipeline else None,
                )
            )
        return out

    def _run_camera(self, camera: _Camera) -> None:
        spec = camera.spec
        try:
            try:
                camera.source = open_source(spec, self._source_config)
                camera.pipeline = self._factory(spec.camera_id)
                if self._timer is not None:
                    camera.source.timer = self._timer
                    camera.pipeline.timer = self._timer
            except SourceError as exc:
                self._failed(camera, str(exc))
                return
            if self._stop.is_set():
                camera.state = CameraState.STOPPED
                return
            camera.source.start()
            camera.state = CameraState.RUNNING
            log.info("camera %s: running (%s)", spec.camera_id, spec.display)
            self._loop(camera, camera.source, camera.pipeline)
        except Exception as exc:  # isolate: this camera fails, the others go on
            self._failed(camera, f"{type(exc).__name__}: {scrub(str(exc), spec.location)}")
        finally:
            if camera.pipeline is not None:
                camera.pipeline.flush()
            if camera.source is not None:
                camera.source.stop()
            camera.finished.set()

    def _loop(self, camera: _Camera, source: FrameSource, pipeline: CameraPipeline) -> None:
        while not self._stop.is_set():
            try:
                frame = source.read(_IDLE_POLL_S)
            except EndOfSource:
                break
            if frame is None:
                pipeline.sweep()
                continue
            for alert in pipeline.process(frame):
                # The deciding frame's capture time: with the hub's stored time, the alert
                # latency an operator sees (no face data: ids and times only).
                log.info(
                    "camera %s: alert %s raised on the frame captured at %.3f, %.0f ms later",
                    camera.spec.camera_id,
                    alert.alert_id,
                    frame.captured_at,
                    1000 * (time.time() - frame.captured_at),
                )
                self._sink.emit(alert)
            del frame  # the picture must not outlive its processing
        stats = source.stats()
        if self._stop.is_set():
            camera.state = CameraState.STOPPED
        elif stats.state is SourceState.FAILED:
            self._failed(camera, stats.error or "the source failed")
        else:
            camera.state = CameraState.ENDED
            log.info("camera %s: source ended", camera.spec.camera_id)

    def _failed(self, camera: _Camera, message: str) -> None:
        camera.state = CameraState.FAILED
        camera.error = message
        log.error("camera %s failed: %s", camera.spec.camera_id, message)
