"""Prometheus metrics for workers and the hub: counts and histograms only.

Labels name deployments and cameras, never a subject, a score or a face.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from openlfr.workers.protocol import CameraHealth

_LATENCY = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
# Per-frame stages take from well under a millisecond (a window pass) to a few hundred
# (embedding a crowd on a busy CPU).
_STAGE = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class WorkerMetrics:
    """A worker's metrics, in a registry of its own (one per agent, so tests can make many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.alerts = Counter("openlfr_worker_alerts", "Alerts raised and spooled.", registry=r)
        self.spool_refused = Counter(
            "openlfr_worker_spool_refused", "Alerts refused because the spool was full.", registry=r
        )
        self.deliveries = Counter(
            "openlfr_worker_deliveries",
            "Spooled alerts the hub answered for good.",
            ["outcome"],
            registry=r,
        )
        self.capture_to_spool = Histogram(
            "openlfr_worker_capture_to_spool_seconds",
            "From frame capture to the alert durable in the spool.",
            buckets=_LATENCY,
            registry=r,
        )
        self.delivery_lag = Histogram(
            "openlfr_worker_delivery_lag_seconds",
            "From spooling to the hub's acknowledgement.",
            buckets=_LATENCY,
            registry=r,
        )
        self.spool_depth = Gauge("openlfr_worker_spool_depth", "Alerts waiting.", registry=r)
        self.stage_seconds = Histogram(
            "openlfr_worker_stage_seconds",
            "Time one frame spent in a stage, all cameras together: decode and convert "
            "(source threads), detect_full / detect_windows / detect_none (how the frame was "
            "searched for faces), track, crop, recognise (embed, search, decide) and frame "
            "(the whole pipeline).",
            ["stage"],
            buckets=_STAGE,
            registry=r,
        )
        labels = ["deployment", "camera"]
        self.frames = Gauge("openlfr_camera_frames", "Frames processed.", labels, registry=r)
        self.faces = Gauge("openlfr_camera_face_detections", "Faces detected.", labels, registry=r)
        self.tracks = Gauge("openlfr_camera_tracks", "Face tracks.", labels, registry=r)
        self.drops = Gauge("openlfr_camera_dropped_frames", "Frames dropped.", labels, registry=r)
        self.running = Gauge(
            "openlfr_camera_running", "1 while the camera runs.", labels, registry=r
        )

    def observe_stage(self, stage: str, seconds: float) -> None:
        """A :data:`~openlfr.stream.schedule.StageTimer`: called from camera threads."""
        self.stage_seconds.labels(stage=stage).observe(seconds)

    def delivered(self, outcome: str, lag_s: float) -> None:
        self.deliveries.labels(outcome=outcome).inc()
        self.delivery_lag.observe(lag_s)

    def observe_cameras(self, cameras: Sequence[CameraHealth], spool_depth: int) -> None:
        self.spool_depth.set(spool_depth)
        for c in cameras:
            key = (str(c.deployment_id), c.name)
            self.frames.labels(*key).set(c.frames)
            self.faces.labels(*key).set(c.faces)
            self.tracks.labels(*key).set(c.tracks)
            self.drops.labels(*key).set(c.dropped_frames)
            self.running.labels(*key).set(1 if c.state == "running" else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class HubMetrics:
    """The hub's metrics: alerts stored and refused, capture-to-stored latency, camera states."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "openlfr_hub_alert_deliveries",
            "Alert deliveries from workers.",
            ["outcome"],
            registry=r,
        )
        self.capture_to_stored = Histogram(
            "openlfr_hub_capture_to_stored_seconds",
            "From frame capture on the worker to the alert committed at the hub.",
            buckets=_LATENCY,
            registry=r,
        )
        self.syncs = Counter("openlfr_hub_worker_syncs", "Heartbeats received.", registry=r)
        self.workers = Gauge("openlfr_hub_workers", "Workers heard from recently.", registry=r)
        self.cameras = Gauge(
            "openlfr_hub_cameras", "Cameras of live deployments by state.", ["state"], registry=r
        )
        self.spool_depth = Gauge(
            "openlfr_hub_worker_spool_depth",
            "Alerts waiting in each worker's spool.",
            ["worker"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
