"""``openlfr worker``: runs the cameras the hub assigns, spools their alerts, reports health.

The worker holds no account data and reads nothing from the hub but its own
assignments. Each alert goes to the encrypted spool first; a separate thread
delivers the spool to the hub. So a hub that is down, locked or out of disk
delays alerts but never stops a camera or loses one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from openlfr.alert_records.service import AlertInput
from openlfr.deployments.launcher import StreamSession
from openlfr.deployments.live import CameraPlan, LivePlan
from openlfr.privacy.crypto import BlobCipher, load_or_create_key
from openlfr.services import Services
from openlfr.stream.pipeline import HeldInMemory
from openlfr.workers.delivery import Deliverer
from openlfr.workers.metrics import WorkerMetrics
from openlfr.workers.protocol import AlertDelivery, Assignment, Assignments, CameraHealth, Heartbeat
from openlfr.workers.spool import Spool, SpoolFull

log = logging.getLogger(__name__)

# A camera whose alert the spool refused this recently reports ``spool_full``.
_SPOOL_ALARM_S = 60.0


@dataclass(slots=True)
class _Running:
    assignment: Assignment
    session: StreamSession | None
    error: str | None = None
    refused_at: dict[str, float] = field(default_factory=dict)


class WorkerAgent:
    """One worker process's loop: sync with the hub, run sessions, spool and deliver alerts.

    Args:
        services: models and pipeline settings (the worker's own).
        client: an httpx client with the hub's base URL and the worker's token.
        name: the worker's stable name (its cameras stay with it across restarts).
        spool: where alerts wait for the hub.
        sync_s: seconds between syncs (each is also the heartbeat).
        retention_s: spooled alerts older than this are deleted (the hub's alert retention).
        parent_pid: stop when this process (a supervising local hub) is no longer the parent.
        engine: what runs this worker, as its heartbeat names it ('process', 'ray').
        node: the machine it runs on now (a Ray node id), for the hub's view.
    """

    def __init__(
        self,
        services: Services,
        client: httpx.Client,
        name: str,
        spool: Spool,
        *,
        sync_s: float = 1.0,
        retention_s: float = 31 * 86400.0,
        metrics: WorkerMetrics | None = None,
        parent_pid: int | None = None,
        engine: str = "process",
        node: str | None = None,
    ) -> None:
        self._services = services
        self._client = client
        self.name = name
        self.spool = spool
        self._sync_s = sync_s
        self._retention_s = retention_s
        self.metrics = metrics or WorkerMetrics()
        self.deliverer = Deliverer(spool, client, on_delivered=self.metrics.delivered)
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._parent_pid = parent_pid
        self._engine = engine
        self._node = node
        self._watched: list[tuple[int, str]] = []
        self._preview = threading.Thread(target=self._send_previews, name="preview", daemon=True)

    def run(self) -> None:
        """Until :meth:`stop`: sync every ``sync_s``; the deliverer runs beside it."""
        self.deliverer.start()
        self._preview.start()
        try:
            while not self._stop.is_set():
                if self._parent_pid is not None and os.getppid() != self._parent_pid:
                    log.warning("the supervising hub process is gone: stopping")
                    break
                self._sync_once()
                self._stop.wait(self._sync_s)
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stop.set()

    def _sync_once(self) -> None:
        self.spool.purge_older(self._retention_s)
        with self._lock:
            held = sorted(set(self._running) | set(self.spool.deployments()))
        body = {"heartbeat": self.heartbeat().model_dump(mode="json"), "held": held}
        try:
            response = self._client.post("/api/v1/workers/sync", json=body)
        except httpx.HTTPError as exc:
            log.warning("sync with the hub failed (cameras carry on): %s", exc)
            return
        if response.status_code != 200:
            log.warning(
                "the hub refused the sync (HTTP %s): %s", response.status_code, response.text[:300]
            )
            return
        self.apply(Assignments.model_validate(response.json()))

    def apply(self, assignments: Assignments) -> None:
        """Start, change and stop sessions to match the hub; purge what closed deployments left."""
        self._watched = list(assignments.preview)
        wanted = {a.deployment_id: a for a in assignments.deployments}
        with self._lock:
            for dep_id in list(self._running):
                if dep_id not in wanted:
                    self._stop_session(dep_id)  # its gallery goes with it
            for dep_id, assignment in wanted.items():
                current = self._running.get(dep_id)
                if current is None:
                    self._start_session(assignment)
                elif (
                    current.assignment.version != assignment.version
                    # The hub moves a camera to another worker without a new version: this
                    # worker must stop it (or take one), or two workers run it at once.
                    or current.assignment.cameras != assignment.cameras
                ):
                    same_cameras = current.assignment.cameras == assignment.cameras
                    if same_cameras and current.session is not None:
                        current.session.set_threshold(assignment.threshold)
                        current.assignment = assignment
                    else:
                        self._stop_session(dep_id)
                        self._start_session(assignment)
        for dep_id in assignments.closed:
            gone = self.spool.purge_deployment(dep_id)
            if gone:
                log.info("deployment %s closed: %d spooled alert(s) deleted", dep_id, gone)

    def _send_previews(self) -> None:
        """While someone watches a camera on the console, send its redacted picture a few
        times a second (the pipeline makes pictures only while they are asked for)."""
        preview = self._services.preview
        sent: dict[tuple[int, str], bytes] = {}
        while not self._stop.wait(1.0 / preview.settings.fps):
            for dep_id, camera in self._watched:
                jpeg = preview.jpeg(dep_id, camera)
                if jpeg is None or sent.get((dep_id, camera)) is jpeg:
                    continue
                sent[(dep_id, camera)] = jpeg
                with contextlib.suppress(httpx.HTTPError):  # the next picture will do
                    self._client.put(
                        f"/api/v1/workers/preview/{dep_id}/{quote(camera, safe='')}",
                        content=jpeg,
                        headers={"content-type": "image/jpeg"},
                    )
            sent = {k: v for k, v in sent.items() if k in self._watched}

    def _start_session(self, assignment: Assignment) -> None:
        dep_id = assignment.deployment_id
        running = _Running(assignment, None)
        self._running[dep_id] = running
        try:
            if assignment.model_id != self._services.pack.model_id:
                raise RuntimeError(
                    f"the watchlist holds {assignment.model_id} templates but this worker runs "
                    f"{self._services.pack.model_id}"
                )
            plan = LivePlan(
                deployment_id=dep_id,
                cameras=tuple(CameraPlan(c.name, c.source) for c in assignment.cameras),
                gallery=assignment.gallery(),
                threshold=assignment.threshold,
            )
            running.session = StreamSession(
                self._services,
                plan,
                lambda item: self._spool_alert(running, item),
                lambda _: None,
                stage_timer=self.metrics.observe_stage,
            )
            log.info("deployment %s: %d camera(s) started", dep_id, len(assignment.cameras))
        except Exception as exc:
            log.exception("deployment %s could not start here", dep_id)
            running.error = f"{type(exc).__name__}: {exc}"

    def _stop_session(self, dep_id: int) -> None:
        running = self._running.pop(dep_id)
        if running.session is not None:
            running.session.stop()

    def _spool_alert(self, running: _Running, item: AlertInput) -> None:
        import base64

        assert item.uid is not None
        delivery = AlertDelivery(
            uid=item.uid,
            deployment_id=item.deployment_id,
            camera=item.camera,
            subject_id=item.subject_id,
            score=item.score,
            track_id=item.track_id,
            captured_at=item.captured_at,
            crop=base64.b64encode(item.crop).decode(),
            scene=None if item.scene is None else base64.b64encode(item.scene).decode(),
        )
        try:
            self.spool.put(delivery)
        except SpoolFull:
            running.refused_at[item.camera] = time.monotonic()
            self.metrics.spool_refused.inc()
            log.error("camera %s: the spool is full; alert %s not kept", item.camera, item.uid)
            return
        self.metrics.alerts.inc()
        self.metrics.capture_to_spool.observe(max(0.0, time.time() - item.captured_at.timestamp()))

    def held(self) -> list[HeldInMemory]:
        """What the running pipelines hold about faces now (for the privacy checks)."""
        with self._lock:
            return [h for r in self._running.values() if r.session for h in r.session.held()]

    def heartbeat(self) -> Heartbeat:
        cameras: list[CameraHealth] = []
        now = time.monotonic()
        with self._lock:
            for dep_id, running in self._running.items():
                if running.session is None:
                    cameras += [
                        CameraHealth(
                            deployment_id=dep_id, name=c.name, state="failed", error=running.error
                        )
                        for c in running.assignment.cameras
                    ]
                    continue
                for s in running.session.status():
                    state = s.state
                    if now - running.refused_at.get(s.name, -1e9) < _SPOOL_ALARM_S:
                        state = "spool_full"
                    cameras.append(
                        CameraHealth(
                            deployment_id=dep_id,
                            name=s.name,
                            state=state,
                            error=s.error,
                            frames=s.frames,
                            faces=s.faces,
                            tracks=s.tracks,
                            alerts=s.alerts,
                            dropped_frames=s.dropped_frames,
                        )
                    )
        stats = self.spool.stats()
        self.metrics.observe_cameras(cameras, stats.depth)
        return Heartbeat(
            worker=self.name,
            pid=os.getpid(),
            engine=self._engine,
            node=self._node,
            cameras=cameras,
            spool_depth=stats.depth,
            spool_capacity=stats.capacity,
            spool_refused=stats.refused,
            spool_accepted=stats.accepted,
            delivered=self.deliverer.stats.delivered,
            oldest_pending_s=stats.oldest_age_s,
        )

    def _shutdown(self) -> None:
        with self._lock:
            for dep_id in list(self._running):
                self._stop_session(dep_id)
        self.deliverer.stop()


def open_agent(
    services: Services,
    hub: str,
    token: str,
    name: str,
    folder: Path,
    *,
    spool_capacity: int = 10_000,
    sync_s: float = 1.0,
    parent_pid: int | None = None,
    engine: str = "process",
    node: str | None = None,
) -> WorkerAgent:
    """A worker named ``name`` for the hub at ``hub``, its spool and key in ``folder``."""
    spool = Spool(
        folder / "spool.sqlite3",
        BlobCipher(load_or_create_key(folder / "spool.key")),
        capacity=spool_capacity,
    )
    # Timeouts longer than the hub's database busy timeout: a slow answer is still an answer.
    client = httpx.Client(
        base_url=hub,
        headers={"authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(60.0, connect=5.0),
    )
    return WorkerAgent(
        services,
        client,
        name,
        spool,
        sync_s=sync_s,
        retention_s=services.settings.retention.alert_days * 86400.0,
        parent_pid=parent_pid,
        engine=engine,
        node=node,
    )
