"""The alert message every subscriber receives (SSE, MQTT, webhook): metadata, never images."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from openlfr.alert_records.models import AlertRecord


class AlertMessage(BaseModel):
    """One stored alert, as announced to subscribers.

    The probe crop and the reference image are not included: a subscriber with
    the right role fetches them through the API, where the access is audited.
    """

    model_config = ConfigDict(frozen=True)

    type: Literal["alert"] = "alert"
    id: int
    deployment_id: int
    camera: str
    subject_id: int | None
    subject_reference: str
    score: float
    threshold: float
    track_id: str
    captured_at: datetime
    created_at: datetime
    crop_url: str

    @classmethod
    def of(cls, alert: AlertRecord) -> AlertMessage:
        return cls(
            id=alert.id,
            deployment_id=alert.deployment_id,
            camera=alert.camera,
            subject_id=alert.subject_id,
            subject_reference=alert.subject_reference,
            score=alert.score,
            threshold=alert.threshold,
            track_id=alert.track_id,
            captured_at=alert.captured_at,
            created_at=alert.created_at,
            crop_url=f"/api/v1/alerts/{alert.id}/crop",
        )
