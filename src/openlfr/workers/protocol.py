"""What a worker and the hub say to each other over HTTP: assignments, alerts, heartbeats."""

from __future__ import annotations

import base64
from datetime import datetime

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from openlfr.storage.fields import Count, RefId
from openlfr.watchlist.gallery import Gallery


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CameraAssignment(_Wire):
    name: str
    source: str


class Assignment(_Wire):
    """One deployment's cameras placed on the asking worker, with what the pipeline needs.

    ``version`` changes whenever anything here does (threshold, cameras): the
    worker restarts that deployment's pipelines when it sees a new one.
    """

    deployment_id: int
    version: int
    threshold: float
    cameras: list[CameraAssignment]
    model_id: str
    subject_ids: list[str] = Field(description="One per template row.")
    templates: str = Field(description="Base64 of the (M, D) float32 templates, row-major.")
    dim: int

    @classmethod
    def of(
        cls,
        deployment_id: int,
        version: int,
        threshold: float,
        cameras: list[CameraAssignment],
        gallery: Gallery,
    ) -> Assignment:
        ids, templates = gallery.rows()
        return cls(
            deployment_id=deployment_id,
            version=version,
            threshold=threshold,
            cameras=cameras,
            model_id=gallery.model_id,
            subject_ids=ids,
            templates=base64.b64encode(
                np.ascontiguousarray(templates, np.float32).tobytes()
            ).decode(),
            dim=gallery.dim,
        )

    def gallery(self) -> Gallery:
        flat = np.frombuffer(base64.b64decode(self.templates), dtype=np.float32)
        return Gallery(
            self.subject_ids, flat.reshape(len(self.subject_ids), self.dim), self.model_id
        )


class Assignments(_Wire):
    worker: str
    deployments: list[Assignment]
    # Deployments closed since: their spool entries and anything held for them go.
    closed: list[int] = Field(default_factory=list)
    # Cameras someone watches on the console: send their redacted picture (nothing else).
    preview: list[tuple[int, str]] = Field(default_factory=list)


class AlertDelivery(_Wire):
    """One spooled alert; ``uid`` is the idempotency key (the hub stores each uid once)."""

    uid: str = Field(min_length=8, max_length=64)
    deployment_id: RefId
    camera: str = Field(max_length=64)
    subject_id: str = Field(max_length=64)
    score: float
    track_id: str = Field(max_length=64)
    captured_at: datetime
    crop: str = Field(description="Base64 of the encoded probe crop.")
    scene: str | None = Field(
        default=None,
        max_length=400_000,
        description="Base64 of a small scene thumbnail, obscured except the alerted face.",
    )


class AlertAck(_Wire):
    uid: str
    alert_id: int
    duplicate: bool


class CameraHealth(_Wire):
    """A camera's state and counters (never face data)."""

    deployment_id: RefId
    name: str
    state: str
    error: str | None = None
    frames: Count = 0
    faces: Count = 0
    tracks: Count = 0
    alerts: Count = 0
    dropped_frames: Count = 0
    seconds_since_last_frame: float | None = None


class Heartbeat(_Wire):
    worker: str
    pid: Count
    engine: str = "process"
    # Where the worker runs now (a Ray node id): it changes when Ray moves the worker.
    node: str | None = Field(default=None, max_length=128)
    cameras: list[CameraHealth]
    spool_depth: Count = 0
    spool_capacity: Count = 0
    spool_refused: Count = 0
    spool_accepted: Count = Field(default=0, description="Alerts ever spooled (across restarts).")
    delivered: Count = 0
    oldest_pending_s: float | None = None
