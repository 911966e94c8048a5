"""The hub's side of the live link: deployments placed on workers, their health from heartbeats.

The hub never runs a pipeline. :class:`WorkerHub` is the hub's
``PipelineLauncher``: launching a deployment only records what its cameras
need; workers pick it up on their next sync, run it, and report each camera's
state and counters back. Each camera is placed on one worker (the least loaded
of those heard from recently) and stays there while that worker is heard from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from openlfr.deployments.live import (
    AlertCallback,
    CameraLiveStatus,
    EndCallback,
    LivePlan,
)
from openlfr.web.preview import PreviewHub
from openlfr.workers.metrics import HubMetrics
from openlfr.workers.protocol import Assignment, CameraAssignment, CameraHealth, Heartbeat

log = logging.getLogger(__name__)

TERMINAL = frozenset({"ended", "failed"})
# States a camera is in when it needs someone's attention (an alarm on the console).
ALARMS = frozenset({"stalled", "failed", "spool_full", "unassigned", "dropping"})
# Fewer frames than this offered in the drop window say nothing about a drop rate.
_MIN_FRAMES_FOR_RATE = 50


@dataclass(slots=True)
class _Camera:
    name: str
    source: str
    worker: str | None = None
    health: CameraHealth | None = None
    heard_at: float = 0.0
    frames_changed_at: float = 0.0
    # Counters of earlier worker processes (a restart starts them from zero again).
    carried: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    pid: int | None = None
    process_heard_at: float = 0.0
    # (when, frames processed, frames dropped) at each heartbeat within the drop window,
    # counted across worker restarts.
    samples: deque[tuple[float, int, int]] = field(default_factory=deque)


@dataclass(slots=True)
class _Live:
    plan: LivePlan
    on_end: EndCallback
    threshold: float
    version: int = 1
    cameras: dict[str, _Camera] = field(default_factory=dict)
    ended: bool = False


@dataclass(slots=True)
class WorkerSeen:
    name: str
    heard_at: float
    heartbeat: Heartbeat


Alarm = Callable[[int, str, str, str | None], None]


class RemoteSession:
    """A deployment running on workers, as the live manager sees it."""

    def __init__(self, hub: WorkerHub, deployment_id: int) -> None:
        self._hub = hub
        self._deployment_id = deployment_id
        self._final: list[CameraLiveStatus] | None = None

    def set_threshold(self, threshold: float) -> None:
        self._hub.set_threshold(self._deployment_id, threshold)

    def status(self) -> list[CameraLiveStatus]:
        # After the stop, the counters as they were then (the period of use records them).
        if self._final is not None:
            return self._final
        return self._hub.status(self._deployment_id)

    def stop(self) -> None:
        self._final = self._hub.status(self._deployment_id)
        self._hub.withdraw(self._deployment_id)


class WorkerHub:
    """Assignments for workers and what they report.

    Args:
        stale_s: a worker not heard from for this long no longer holds its cameras
            (they go to another worker if there is one) and they show as stalled.
        stall_s: a running camera whose frame count has not moved for this long is stalled.
        drop_limit: a running camera that dropped more than this share of its frames over
            the last ``drop_window_s`` is ``dropping`` (an alarm): it is not keeping up.
        drop_grace_s: drops in a worker process's first seconds (models warming up) do
            not count.
        on_alarm: told (deployment, camera, state, error) when a camera enters an alarm state.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        *,
        stale_s: float = 10.0,
        stall_s: float = 15.0,
        drop_limit: float = 0.05,
        drop_window_s: float = 30.0,
        drop_grace_s: float = 15.0,
        on_alarm: Alarm | None = None,
        clock: Callable[[], float] = time.monotonic,
        preview: PreviewHub | None = None,
    ) -> None:
        self._stale_s = stale_s
        self._stall_s = stall_s
        self._drop_limit = drop_limit
        self._drop_window_s = drop_window_s
        self._drop_grace_s = drop_grace_s
        self.on_alarm = on_alarm
        self._clock = clock
        self._lock = threading.Lock()
        self._live: dict[int, _Live] = {}
        self._workers: dict[str, WorkerSeen] = {}
        self._alarmed: dict[tuple[int, str], str] = {}
        self.metrics = HubMetrics()
        # The console's camera view: workers send the redacted pictures someone is watching.
        self.preview = preview

    # -- the live manager's side -------------------------------------------------------

    def launch(self, plan: LivePlan, on_alert: AlertCallback, on_end: EndCallback) -> RemoteSession:
        # Alerts arrive through the delivery route, not from a callback in this process.
        del on_alert
        with self._lock:
            live = _Live(plan=plan, on_end=on_end, threshold=plan.threshold)
            live.cameras = {c.name: _Camera(c.name, c.source) for c in plan.cameras}
            old = self._live.get(plan.deployment_id)
            if old is not None:
                live.version = old.version + 1
            self._live[plan.deployment_id] = live
        if self.preview is not None:
            for c in plan.cameras:
                self.preview.watch(plan.deployment_id, c.name)
        log.info(
            "deployment %s: %d camera(s) offered to workers", plan.deployment_id, len(plan.cameras)
        )
        return RemoteSession(self, plan.deployment_id)

    def set_threshold(self, deployment_id: int, threshold: float) -> None:
        with self._lock:
            live = self._live.get(deployment_id)
            if live is not None:
                live.threshold = threshold
                live.version += 1

    def withdraw(self, deployment_id: int) -> None:
        with self._lock:
            self._live.pop(deployment_id, None)
        if self.preview is not None:
            self.preview.forget(deployment_id)

    def held(self) -> dict[int, float]:
        """The deployments this hub process offers to workers, with the threshold it offers."""
        with self._lock:
            return {dep_id: live.threshold for dep_id, live in self._live.items()}

    def watched(self, worker: str) -> list[tuple[int, str]]:
        """Cameras of this worker whose redacted picture someone is watching on the console."""
        if self.preview is None:
            return []
        wanted = set(self.preview.wanted())
        with self._lock:
            return [
                (dep_id, c.name)
                for dep_id, live in self._live.items()
                for c in live.cameras.values()
                if c.worker == worker and (dep_id, c.name) in wanted
            ]

    def status(self, deployment_id: int) -> list[CameraLiveStatus]:
        now = self._clock()
        with self._lock:
            live = self._live.get(deployment_id)
            if live is None:
                return []
            return [self._camera_status(deployment_id, c, now) for c in live.cameras.values()]

    def _camera_status(self, deployment_id: int, cam: _Camera, now: float) -> CameraLiveStatus:
        h = cam.health
        f, d, t, a, dr = cam.carried
        state, error = self._state(cam, now)
        return CameraLiveStatus(
            name=cam.name,
            state=state,
            error=error,
            frames=f + (h.frames if h else 0),
            faces=d + (h.faces if h else 0),
            tracks=t + (h.tracks if h else 0),
            alerts=a + (h.alerts if h else 0),
            dropped_frames=dr + (h.dropped_frames if h else 0),
        )

    def _state(self, cam: _Camera, now: float) -> tuple[str, str | None]:
        if cam.worker is None:
            return "unassigned", "no worker has taken this camera yet"
        if cam.health is None:
            if now - cam.heard_at > self._stale_s:
                return "stalled", f"worker {cam.worker} has not reported this camera"
            return "starting", None
        if now - cam.heard_at > self._stale_s:
            return (
                "stalled",
                f"no heartbeat from worker {cam.worker} for {now - cam.heard_at:.0f} s",
            )
        state = cam.health.state
        if state == "running" and now - cam.frames_changed_at > self._stall_s:
            return "stalled", f"no frame for {now - cam.frames_changed_at:.0f} s"
        share = self._drop_share(cam)
        if state == "running" and share is not None and share > self._drop_limit:
            return "dropping", (
                f"dropped {share:.0%} of its frames in the last {self._drop_window_s:.0f} s "
                f"(limit {self._drop_limit:.0%}): the worker is not keeping up"
            )
        return state, cam.health.error

    @staticmethod
    def _drop_share(cam: _Camera) -> float | None:
        """Dropped frames as a share of the frames offered over the samples kept."""
        if len(cam.samples) < 2:
            return None
        (_, f0, d0), (_, f1, d1) = cam.samples[0], cam.samples[-1]
        offered = (f1 - f0) + (d1 - d0)
        return None if offered < _MIN_FRAMES_FOR_RATE else (d1 - d0) / offered

    # -- the workers' side ---------------------------------------------------------------

    def now(self) -> float:
        return self._clock()

    def workers(self) -> list[WorkerSeen]:
        with self._lock:
            return list(self._workers.values())

    def sync(self, beat: Heartbeat) -> list[Assignment]:
        """Record a worker's heartbeat; the deployments (and cameras) it should run now."""
        now = self._clock()
        ended: list[tuple[EndCallback, str]] = []
        with self._lock:
            self._workers[beat.worker] = WorkerSeen(beat.worker, now, beat)
            for health in beat.cameras:
                live = self._live.get(health.deployment_id)
                cam = None if live is None else live.cameras.get(health.name)
                if cam is None or cam.worker != beat.worker:
                    continue
                self._take(cam, health, beat.pid, now)
            self._place(beat.worker, now)
            out = []
            for dep_id, live in self._live.items():
                mine = [c for c in live.cameras.values() if c.worker == beat.worker]
                if mine:
                    out.append(
                        Assignment.of(
                            dep_id,
                            live.version,
                            live.threshold,
                            [CameraAssignment(name=c.name, source=c.source) for c in mine],
                            live.plan.gallery,
                        )
                    )
                if not live.ended and all(
                    c.health is not None and c.health.state in TERMINAL
                    for c in live.cameras.values()
                ):
                    live.ended = True
                    why = "; ".join(
                        f"{c.name} {c.health.state}"
                        + (f" ({c.health.error})" if c.health.error else "")
                        for c in live.cameras.values()
                        if c.health is not None
                    )
                    ended.append((live.on_end, why))
            alarms = self._new_alarms(now)
        self.metrics.syncs.inc()
        self.metrics.spool_depth.labels(worker=beat.worker).set(beat.spool_depth)
        for on_end, why in ended:
            threading.Thread(target=on_end, args=(why,), daemon=True).start()
        for alarm in alarms:
            self._raise(*alarm)
        return out

    def _take(self, cam: _Camera, health: CameraHealth, pid: int, now: float) -> None:
        if cam.pid is not None and pid != cam.pid and cam.health is not None:
            h = cam.health
            f, d, t, a, dr = cam.carried
            cam.carried = (
                f + h.frames,
                d + h.faces,
                t + h.tracks,
                a + h.alerts,
                dr + h.dropped_frames,
            )
        if cam.health is None or health.frames != cam.health.frames or cam.pid != pid:
            cam.frames_changed_at = now
        if cam.pid != pid:
            cam.process_heard_at = now
            cam.samples.clear()
        cam.pid = pid
        cam.health = health
        cam.heard_at = now
        if now - cam.process_heard_at < self._drop_grace_s:
            return
        f, _, _, _, dr = cam.carried
        cam.samples.append((now, f + health.frames, dr + health.dropped_frames))
        # Keep the newest sample at or before the window's start, so the window is covered.
        while len(cam.samples) > 2 and cam.samples[1][0] <= now - self._drop_window_s:
            cam.samples.popleft()

    def _place(self, asker: str, now: float) -> None:
        alive = {w for w, seen in self._workers.items() if now - seen.heard_at <= self._stale_s}
        load = {w: 0 for w in alive}
        for live in self._live.values():
            for cam in live.cameras.values():
                if cam.worker in load:
                    load[cam.worker] += 1
        for live in self._live.values():
            for cam in live.cameras.values():
                if cam.worker in alive:
                    continue
                # Only the asker can be told now; it takes a camera if it is among the least loaded.
                if load.get(asker, 0) > min(load.values(), default=0):
                    continue
                if cam.worker is not None:
                    log.warning(
                        "camera %s: worker %s silent, moved to %s", cam.name, cam.worker, asker
                    )
                self._give(cam, asker, now)
                load[asker] = load.get(asker, 0) + 1
        # A worker that joins takes one camera per sync from the busiest, until balanced.
        busiest = max(load, key=lambda w: load[w], default=asker)
        if load.get(busiest, 0) - load.get(asker, 0) >= 2:
            cam = next(
                c
                for live in self._live.values()
                for c in live.cameras.values()
                if c.worker == busiest
            )
            log.info("camera %s: moved from %s to %s to balance", cam.name, busiest, asker)
            self._give(cam, asker, now)

    @staticmethod
    def _give(cam: _Camera, worker: str, now: float) -> None:
        cam.worker, cam.health, cam.pid = worker, None, None
        cam.heard_at = cam.frames_changed_at = now

    def _new_alarms(self, now: float) -> list[tuple[int, str, str, str | None]]:
        found = []
        for dep_id, live in self._live.items():
            for cam in live.cameras.values():
                state, error = self._state(cam, now)
                key = (dep_id, cam.name)
                if state in ALARMS and self._alarmed.get(key) != state:
                    found.append((dep_id, cam.name, state, error))
                if state in ALARMS:
                    self._alarmed[key] = state
                else:
                    self._alarmed.pop(key, None)
        return found

    def _raise(self, deployment_id: int, camera: str, state: str, error: str | None) -> None:
        log.error("deployment %s camera %s: %s (%s)", deployment_id, camera, state, error)
        if self.on_alarm is not None:
            try:
                self.on_alarm(deployment_id, camera, state, error)
            except Exception:  # an alarm that cannot be recorded must not stop the sync
                log.exception("camera alarm not recorded")

    def refresh_metrics(self) -> None:
        """Gauges that are read from the live state (called when /metrics is scraped)."""
        now = self._clock()
        with self._lock:
            alive = sum(1 for w in self._workers.values() if now - w.heard_at <= self._stale_s)
            states: dict[str, int] = {}
            for live in self._live.values():
                for cam in live.cameras.values():
                    state = self._state(cam, now)[0]
                    states[state] = states.get(state, 0) + 1
        self.metrics.workers.set(alive)
        self.metrics.cameras.clear()
        for state, n in states.items():
            self.metrics.cameras.labels(state=state).set(n)

    def alarms(self) -> list[tuple[int, CameraLiveStatus]]:
        """Every camera of a live deployment now in an alarm state."""
        now = self._clock()
        with self._lock:
            return [
                (dep_id, s)
                for dep_id, live in self._live.items()
                for c in live.cameras.values()
                if (s := self._camera_status(dep_id, c, now)).state in ALARMS
            ]
