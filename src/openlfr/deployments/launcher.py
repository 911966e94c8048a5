"""The live pipeline behind the live link: each deployment's cameras on ``openlfr.stream``."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import cv2

from openlfr.alert_records.service import AlertInput
from openlfr.deployments.live import (
    AlertCallback,
    CameraLiveStatus,
    EndCallback,
    LivePlan,
    PipelineLauncher,
)
from openlfr.services import Services
from openlfr.stream import CameraPipeline, CameraState, Runner, parse_source, pipeline_factory
from openlfr.stream.pipeline import HeldInMemory
from openlfr.stream.timing import StageTimer
from openlfr.types import Alert
from openlfr.watchlist.gallery import LiveGallery

log = logging.getLogger(__name__)


class DeploymentSink:
    """The ``AlertSink`` of one deployment: hands each alert to the database, synchronously.

    The alert is stored (crop sealed, audit event, outbox rows) before ``emit``
    returns, so it is durable before any subscriber hears of it. Only alerts
    reach this sink: every other face stays in the pipeline's memory.
    """

    def __init__(self, deployment_id: int, on_alert: AlertCallback) -> None:
        self._deployment_id = deployment_id
        self._on_alert = on_alert

    def emit(self, alert: Alert) -> None:
        ok, encoded = cv2.imencode(".png", alert.probe.image)
        if not ok:
            raise RuntimeError(f"alert {alert.alert_id}: the probe crop could not be encoded")
        self._on_alert(
            AlertInput(
                deployment_id=self._deployment_id,
                camera=alert.camera_id,
                subject_id=alert.subject_id,
                score=alert.score,
                track_id=str(alert.track_id),
                captured_at=datetime.fromtimestamp(alert.captured_at, UTC),
                crop=encoded.tobytes(),
                uid=alert.alert_id,
                scene=alert.scene,
            )
        )

    def close(self) -> None:
        pass


class StreamSession:
    """One deployment's cameras: a :class:`Runner` and a watcher that reports its end."""

    def __init__(
        self,
        services: Services,
        plan: LivePlan,
        on_alert: AlertCallback,
        on_end: EndCallback,
        *,
        stage_timer: StageTimer | None = None,
    ) -> None:
        self._services = services
        self._stage_timer = stage_timer
        self._plan = plan
        self._sink = DeploymentSink(plan.deployment_id, on_alert)
        self._on_end = on_end
        self._gallery = LiveGallery(plan.gallery)
        self._lock = threading.Lock()
        self._stopping = False
        # Counters of runners replaced by a threshold change, per camera: (frames, faces, tracks),
        # so that a period of use reports everything its cameras saw.
        self._carried: dict[str, tuple[int, int, int]] = {}
        self._runner: Runner
        with self._lock:
            self._start(plan.threshold)

    def _start(self, threshold: float) -> Runner:
        """Start a runner as the current one (call with the lock held); returns the old one."""
        settings = self._services.settings
        build = pipeline_factory(
            settings,
            self._services.pack,
            self._gallery,
            watchlist=f"deployment-{self._plan.deployment_id}",
            threshold=threshold,
            cameras=len(self._plan.cameras),
        )
        preview = self._services.preview

        def factory(camera_id: str) -> CameraPipeline:
            # The console's camera view: each frame, blurred, into memory only.
            pipeline = build(camera_id)
            pipeline.observer = preview.observer(self._plan.deployment_id, camera_id)
            return pipeline

        specs = [parse_source(f"{c.name}={c.source}", i) for i, c in enumerate(self._plan.cameras)]
        runner = Runner(
            specs, factory, self._sink, settings.pipeline.source, stage_timer=self._stage_timer
        )
        previous = getattr(self, "_runner", runner)
        self._runner = runner
        runner.start()
        threading.Thread(
            target=self._watch,
            args=(runner,),
            name=f"deployment-{self._plan.deployment_id}-watch",
            daemon=True,
        ).start()
        return previous

    def _watch(self, runner: Runner) -> None:
        runner.wait()
        with self._lock:
            if self._stopping or runner is not self._runner:
                return  # stopped on purpose, or replaced by a restart
        reasons = [
            f"{s.camera_id} {s.state}" + (f" ({s.error})" if s.error else "")
            for s in runner.status()
        ]
        self._on_end("; ".join(reasons))

    def set_threshold(self, threshold: float) -> None:
        """Restart the cameras with the new threshold (tracks start afresh)."""
        with self._lock:
            if self._stopping:
                return
            old = self._start(threshold)
        old.stop()
        old.wait(timeout=10)
        with self._lock:
            for s in old.status():
                c = s.counters
                f, d, t = self._carried.get(s.camera_id, (0, 0, 0))
                self._carried[s.camera_id] = (f + c.frames, d + c.faces, t + c.tracks)

    def status(self) -> list[CameraLiveStatus]:
        out = []
        for s in self._runner.status():
            c = s.counters
            f, d, t = self._carried.get(s.camera_id, (0, 0, 0))
            out.append(
                CameraLiveStatus(
                    name=s.camera_id,
                    state=str(s.state),
                    error=s.error,
                    frames=f + c.frames,
                    faces=d + c.faces,
                    tracks=t + c.tracks,
                    alerts=c.alerts,
                    dropped_frames=s.dropped,
                )
            )
        return out

    def held(self) -> list[HeldInMemory]:
        """What each camera's pipeline holds about faces now (for the privacy checks)."""
        return [s.held for s in self._runner.status() if s.held is not None]

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._runner.stop()
        if not self._runner.wait(timeout=30):
            log.warning("deployment %s: cameras slow to stop", self._plan.deployment_id)
        self._services.preview.forget(self._plan.deployment_id)

    @property
    def ended(self) -> bool:
        return self._runner.done and all(
            s.state in (CameraState.ENDED, CameraState.FAILED, CameraState.STOPPED)
            for s in self._runner.status()
        )


class StreamLauncher:
    """Runs deployments on the configured models and pipeline settings."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def launch(self, plan: LivePlan, on_alert: AlertCallback, on_end: EndCallback) -> StreamSession:
        started = time.monotonic()
        model_id = self._services.pack.model_id
        if plan.gallery.model_id != model_id:
            raise RuntimeError(
                f"the watchlist holds {plan.gallery.model_id} templates but the configured model "
                f"is {model_id}"
            )
        session = StreamSession(self._services, plan, on_alert, on_end)
        log.info(
            "deployment %s: %d camera(s) started in %.1f s",
            plan.deployment_id,
            len(plan.cameras),
            time.monotonic() - started,
        )
        return session


def default_launcher(services: Services) -> PipelineLauncher:
    """The launcher ``openlfr serve`` uses: the live pipeline on this machine."""
    return StreamLauncher(services)
