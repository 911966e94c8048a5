"""The live link: a started deployment runs its cameras on its frozen watchlist into the DB."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alert_records.recorder import AlertRecorder
from openlfr.alert_records.service import AlertInput
from openlfr.deployments import camera_sources
from openlfr.deployments import service as deployments
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.blobs import BlobStore
from openlfr.storage.clock import Clock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.engine import Database
from openlfr.watchlist.gallery import Gallery
from openlfr.watchlist_records import lifecycle
from openlfr.watchlist_records import service as watchlists

log = logging.getLogger(__name__)
SYSTEM = Actor.system("live")


@dataclass(frozen=True, slots=True)
class CameraPlan:
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class LivePlan:
    """What a pipeline needs to run one deployment: cameras, gallery and threshold."""

    deployment_id: int
    cameras: tuple[CameraPlan, ...]
    gallery: Gallery
    threshold: float


@dataclass(frozen=True, slots=True)
class CameraLiveStatus:
    """One camera of a live deployment, now: state and counts only (no face data)."""

    name: str
    state: str
    error: str | None = None
    frames: int = 0
    faces: int = 0
    tracks: int = 0
    alerts: int = 0
    dropped_frames: int = 0


class LiveSession(Protocol):
    """A running deployment's pipelines."""

    def set_threshold(self, threshold: float) -> None: ...

    def status(self) -> list[CameraLiveStatus]: ...

    def stop(self) -> None: ...


AlertCallback = Callable[[AlertInput], None]
EndCallback = Callable[[str], None]


class PipelineLauncher(Protocol):
    """Starts the live pipeline for a plan.

    ``on_alert`` receives each alert (from camera threads); ``on_end`` is called
    once if every camera stops by itself (a clip ended, a camera failed for
    good), with the reason, so the end of use is recorded.
    """

    def launch(
        self, plan: LivePlan, on_alert: AlertCallback, on_end: EndCallback
    ) -> LiveSession: ...


class LiveManager:
    """Keeps one live session per live deployment and keeps the database in step with it."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        clock: Clock,
        recorder: AlertRecorder,
        launcher: PipelineLauncher | None,
    ) -> None:
        self._database = database
        self._blobs = blobs
        self._clock = clock
        self._recorder = recorder
        self._launcher = launcher
        self._sessions: dict[int, LiveSession] = {}
        # The period of use each session runs for: its counts are recorded there at the end.
        self._run_ids: dict[int, int] = {}
        self._starting: set[int] = set()
        self._lock = threading.Lock()

    def _ctx(self, db: Session) -> Ctx:
        return Ctx(db=db, actor=SYSTEM, now=self._clock.now(), blobs=self._blobs)

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._sessions)

    def start(self, deployment_id: int) -> bool:
        """Launch a deployment that the database says is live; False if it cannot run."""
        with self._lock:
            if deployment_id in self._sessions or deployment_id in self._starting:
                return True
            # A start recorded here and a worker's sync that finds the deployment live may
            # both ask at once: one launch.
            self._starting.add(deployment_id)
        try:
            return self._launch(deployment_id)
        finally:
            with self._lock:
                self._starting.discard(deployment_id)

    def _launch(self, deployment_id: int) -> bool:
        try:
            with self._database.session() as db:
                ctx = self._ctx(db)
                dep = deployments.get(ctx, deployment_id)
                if dep.state != DeploymentState.LIVE or dep.watchlist_id is None:
                    return False
                run = deployments.current_run(dep)
                run_id = None if run is None else run.id
                wl = watchlists.get(ctx, dep.watchlist_id)
                loaded = lifecycle.load_gallery(ctx, wl, deployment_id=dep.id)
                plan = LivePlan(
                    deployment_id=dep.id,
                    cameras=tuple(
                        CameraPlan(c.name, camera_sources.full_source(self._blobs, c))
                        for c in dep.cameras
                    ),
                    gallery=loaded.gallery,
                    threshold=dep.threshold,
                )
            if self._launcher is None:
                raise RuntimeError("this server has no live pipeline configured")
            session = self._launcher.launch(
                plan, self._on_alert, lambda why: self._on_ended(deployment_id, why)
            )
        except Exception as exc:
            log.exception("deployment %s failed to start", deployment_id)
            self._record_stop(deployment_id, f"failed to start: {exc}")
            return False
        with self._lock:
            self._sessions[deployment_id] = session
            if run_id is not None:
                self._run_ids[deployment_id] = run_id
        return True

    def _on_alert(self, item: AlertInput) -> None:
        self._recorder.record(item)

    def _on_ended(self, deployment_id: int, why: str) -> None:
        log.warning("deployment %s: cameras stopped by themselves: %s", deployment_id, why)
        with self._lock:
            session = self._sessions.pop(deployment_id, None)
            run_id = self._run_ids.pop(deployment_id, None)
        if session is not None:
            # Every camera has ended: its counters are final already.
            self._record_counts(deployment_id, run_id, session)
            threading.Thread(target=session.stop, daemon=True).start()
        self._record_stop(deployment_id, f"cameras stopped: {why}")

    def _record_stop(self, deployment_id: int, reason: str) -> None:
        with self._database.session() as db:
            ctx = self._ctx(db)
            dep = deployments.get(ctx, deployment_id, lock=True)
            if dep.state == DeploymentState.LIVE:
                deployments.stop(ctx, dep, reason=reason)

    def stop(self, deployment_id: int) -> None:
        """Stop the cameras (the caller records the stop in the database)."""
        with self._lock:
            session = self._sessions.pop(deployment_id, None)
            run_id = self._run_ids.pop(deployment_id, None)
        if session is not None:
            session.stop()
            self._record_counts(deployment_id, run_id, session)

    def _record_counts(self, deployment_id: int, run_id: int | None, session: LiveSession) -> None:
        """Keep the stopped cameras' counters with their period of use (the faces seen that
        the deployment record publishes); never fails the stop that calls it."""
        if run_id is None:
            return
        try:
            cameras = session.status()
            with self._database.session() as db:
                ctx = self._ctx(db)
                deployments.record_run_counts(
                    ctx,
                    deployments.get(ctx, deployment_id, lock=True),
                    run_id,
                    frames=sum(c.frames for c in cameras),
                    face_detections=sum(c.faces for c in cameras),
                    faces_seen=sum(c.tracks for c in cameras),
                    cameras={
                        c.name: {"frames": c.frames, "face_detections": c.faces, "tracks": c.tracks}
                        for c in cameras
                    },
                )
        except Exception:
            log.exception("deployment %s: the cameras' counts were not recorded", deployment_id)

    def status(self, deployment_id: int) -> list[CameraLiveStatus] | None:
        """The cameras of a running deployment, or None if it is not running here."""
        with self._lock:
            session = self._sessions.get(deployment_id)
        return None if session is None else session.status()

    def set_threshold(self, deployment_id: int, threshold: float) -> None:
        with self._lock:
            session = self._sessions.get(deployment_id)
        if session is not None:
            session.set_threshold(threshold)

    def resume_or_stop_orphans(self, *, resume: bool) -> None:
        """At start-up: deployments left live by a previous process are resumed or stopped."""
        with self._database.session() as db:
            live = list(
                db.execute(
                    select(Deployment.id).where(Deployment.state == DeploymentState.LIVE)
                ).scalars()
            )
        for dep_id in live:
            if resume:
                self.start(dep_id)
            else:
                self._record_stop(dep_id, "server restarted")

    def shutdown(self) -> None:
        """Stop every session and record the end of each use."""
        for dep_id in self.running():
            self.stop(dep_id)
            self._record_stop(dep_id, "server stopped")
