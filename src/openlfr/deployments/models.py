"""Deployments, their cameras and each period of live use: tables and API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

import openlfr.calibrations.models  # noqa: F401  (the calibrations table a deployment cites)
from openlfr.storage.base import Base, UTCDateTime
from openlfr.storage.fields import Omittable, RefId

CAMERA_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# Text the legal record keeps: no NUL (the API refuses it everywhere; the schema says so).
NO_NUL = r"^[^\x00]*$"


class DeploymentState(StrEnum):
    """draft → authorised → live ⇄ authorised → closed (closed from any state)."""

    DRAFT = "draft"
    AUTHORISED = "authorised"
    LIVE = "live"
    CLOSED = "closed"


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(Text)
    # The borough or area, as published in the deployment record ("" when not given).
    area: Mapped[str] = mapped_column(String(200), default="", server_default="")
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    threshold: Mapped[float] = mapped_column(Float)
    # Two-person verification (EU AI Act Art. 14(5)): an engagement is actionable only once
    # a second, different person confirmed it.
    two_person: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # One deployment per watchlist version: it is bespoke and is purged with it.
    watchlist_id: Mapped[int | None] = mapped_column(
        ForeignKey("watchlists.id", ondelete="RESTRICT"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default=DeploymentState.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    authorised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    authorised_by: Mapped[str | None] = mapped_column(String(100))
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authorisation_note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(100))
    purge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts that outlive the alerts and the watchlist (the deployment record).
    alerts_total: Mapped[int] = mapped_column(Integer, default=0)
    alerts_purged: Mapped[int] = mapped_column(Integer, default=0)
    engaged: Mapped[int] = mapped_column(Integer, default=0)
    not_engaged: Mapped[int] = mapped_column(Integer, default=0)
    false_alerts: Mapped[int] = mapped_column(Integer, default=0)
    # The evidence behind the threshold: a stored calibration of the watchlist's model
    # (its hash copied when attached), or an audited override with its reason.
    calibration_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibrations.id", ondelete="RESTRICT")
    )
    calibration_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_override: Mapped[str | None] = mapped_column(Text)
    # The lowest threshold the override covers (raising a threshold never raises FPIR).
    evidence_override_threshold: Mapped[float | None] = mapped_column(Float)
    evidence_override_by: Mapped[str | None] = mapped_column(String(100))
    evidence_override_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The legal record (deployments/authority.py): what the jurisdiction's profile
    # requires before going live, the authority's answer, and an urgent start's clock.
    legal_basis_category: Mapped[str | None] = mapped_column(String(64))
    authority: Mapped[str | None] = mapped_column(Text)
    authority_reference: Mapped[str | None] = mapped_column(Text)
    authority_recorded_by: Mapped[str | None] = mapped_column(String(100))
    authority_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authority_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authority_refused_by: Mapped[str | None] = mapped_column(String(100))
    authority_refusal: Mapped[str | None] = mapped_column(Text)
    impact_assessment_reference: Mapped[str | None] = mapped_column(Text)
    registration_reference: Mapped[str | None] = mapped_column(Text)
    signage_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signage_confirmed_by: Mapped[str | None] = mapped_column(String(100))
    urgent_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    urgent_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    # Why the law stopped it and purged its data (refusal, or an urgent start's clock ran out).
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    cameras: Mapped[list[Camera]] = relationship(
        back_populates="deployment",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Camera.id",
    )
    runs: Mapped[list[DeploymentRun]] = relationship(
        back_populates="deployment",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="DeploymentRun.id",
    )


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("deployment_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    # The address as shown: credentials masked ("rtsp://***@host/...?token=***").
    source: Mapped[str] = mapped_column(Text)
    # The full address, AES-GCM sealed, when it holds credentials (camera_sources.py).
    source_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    description: Mapped[str] = mapped_column(Text, default="")

    deployment: Mapped[Deployment] = relationship(back_populates="cameras")

    @property
    def credentials_sealed(self) -> bool:
        return self.source_sealed is not None


class DeploymentRun(Base):
    """One period of live use: when it started and ended, by whom, searching what."""

    __tablename__ = "deployment_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(100))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(100))
    end_reason: Mapped[str | None] = mapped_column(Text)
    watchlist_id: Mapped[int] = mapped_column(Integer)
    watchlist_digest: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    # The cameras' counters once they stopped (None until then, or if the process died):
    # counts only, nothing about any face. ``faces_seen`` counts confirmed tracks.
    frames_processed: Mapped[int | None] = mapped_column(Integer)
    face_detections: Mapped[int | None] = mapped_column(Integer)
    faces_seen: Mapped[int | None] = mapped_column(Integer)

    deployment: Mapped[Deployment] = relationship(back_populates="runs")


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class CameraCreate(_Schema):
    name: str = Field(pattern=CAMERA_NAME, description="Camera id used in alerts and topics.")
    source: str = Field(
        min_length=1,
        max_length=2000,
        description="Video source: a file path, rtsp:// or http(s):// URL, or a webcam index.",
    )
    description: str = Field(default="", max_length=2000)


class CameraRead(CameraCreate):
    id: int
    source: str = Field(description="The address with any user, password or token masked.")
    credentials_sealed: bool = Field(
        default=False,
        description="The full address held credentials: it is kept sealed and never returned.",
    )


class _DeploymentFields(_Schema):
    name: str = Field(min_length=1, max_length=200, examples=["Westfield, Saturday"])
    location: str = Field(min_length=1, max_length=4000)
    area: str = Field(
        default="", max_length=200, description="Borough or area (published in the record)."
    )
    purpose: str = Field(min_length=1, max_length=4000, description="Use case and objective.")
    legal_basis: str = Field(min_length=1, max_length=4000)
    planned_start: datetime
    planned_end: datetime
    legal_basis_category: str | None = Field(
        default=None,
        max_length=64,
        pattern=NO_NUL,
        description="The legal basis category, from the jurisdiction's list "
        "(GET /policy: legal_basis_categories).",
    )
    authority: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=400,
        description="The authorising authority: the court, independent body or senior officer.",
    )
    impact_assessment_reference: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=400,
        description="Fundamental-rights impact assessment (Art. 27).",
    )
    registration_reference: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=400,
        description="Registration in the EU database (Art. 49).",
    )

    @model_validator(mode="after")
    def _window(self) -> _DeploymentFields:
        if self.planned_start.tzinfo is None or self.planned_end.tzinfo is None:
            raise ValueError("planned_start and planned_end need a time zone (e.g. 'Z')")
        if self.planned_end <= self.planned_start:
            raise ValueError("planned_end must be after planned_start")
        return self


class DeploymentCreate(_DeploymentFields):
    threshold: float | None = Field(
        default=None, ge=-1.0, le=1.0, description="Default: the configured matching threshold."
    )
    watchlist_id: RefId | None = None
    calibration_id: RefId | None = Field(
        default=None,
        description="The stored calibration (POST /calibrations) that backs the threshold.",
    )
    two_person: bool = Field(
        default=True,
        description="Two-person verification: an 'engage' decision is actionable only once a "
        "second, different person confirms it.",
    )
    cameras: list[CameraCreate] = Field(default_factory=list, max_length=64)


class DeploymentUpdate(_Schema):
    """Changes to a draft. Every field is optional; absent fields keep their value. Only
    ``watchlist_id`` and ``calibration_id`` may be null (detaching them)."""

    name: Omittable[Annotated[str, Field(min_length=1, max_length=200)]] = None
    location: Omittable[Annotated[str, Field(min_length=1, max_length=4000)]] = None
    area: Omittable[Annotated[str, Field(max_length=200)]] = None
    purpose: Omittable[Annotated[str, Field(min_length=1, max_length=4000)]] = None
    legal_basis: Omittable[Annotated[str, Field(min_length=1, max_length=4000)]] = None
    planned_start: Omittable[datetime] = None
    planned_end: Omittable[datetime] = None
    threshold: Omittable[Annotated[float, Field(ge=-1.0, le=1.0)]] = None
    watchlist_id: RefId | None = None
    calibration_id: RefId | None = None
    # The legal record may be given (never cleared) while a draft, and added once authorised.
    legal_basis_category: Omittable[Annotated[str, Field(max_length=64, pattern=NO_NUL)]] = None
    authority: Omittable[Annotated[str, Field(max_length=400, pattern=NO_NUL)]] = None
    impact_assessment_reference: Omittable[
        Annotated[str, Field(max_length=400, pattern=NO_NUL)]
    ] = None
    registration_reference: Omittable[Annotated[str, Field(max_length=400, pattern=NO_NUL)]] = None
    two_person: Omittable[bool] = None


class AuthoriseRequest(_Schema):
    note: str = Field(default="", max_length=4000, description="The officer's grounds.")
    authority_reference: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=400,
        description="The authorising authority's reference for its decision, once given.",
    )


class AuthorityRecord(_Schema):
    """The authority's decision: its reference (the use may go on) or a refusal (it stops)."""

    reference: str | None = Field(
        default=None,
        pattern=NO_NUL,
        min_length=1,
        max_length=400,
        description="The authority's reference.",
    )
    authority: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=400,
        description="Who decided (default: the planned authority).",
    )
    refused: bool = Field(
        default=False,
        description="The authority refused: the deployment stops at once and its alerts, crops "
        "and watchlist are purged.",
    )
    reason: str = Field(
        default="", max_length=4000, pattern=NO_NUL, description="The refusal's grounds."
    )

    @model_validator(mode="after")
    def _one(self) -> AuthorityRecord:
        if self.refused == (self.reference is not None):
            raise ValueError("give either a reference or refused: true")
        return self


class StartRequest(_Schema):
    signage_confirmed: bool = Field(
        default=False, description="Signs telling the public are up at the site (recorded)."
    )
    urgent_reason: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=4000,
        description="Go live before the authority's reference is recorded (officers and "
        "commanders only): the use stops and its data is purged unless the reference is "
        "recorded within authorisation.urgent_hours.",
    )


class ThresholdChange(_Schema):
    threshold: float = Field(ge=-1.0, le=1.0)
    reason: str = Field(max_length=4000, description="Why; required once authorised.")


class EvidenceOverride(_Schema):
    reason: str = Field(
        max_length=4000,
        description="Why this threshold may run without a calibration backing it (audited, "
        "published in the deployment record).",
    )
    threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="The lowest threshold the override covers (default: the current one).",
    )


class ReasonRequest(_Schema):
    reason: str = Field(default="", max_length=4000)


class CloseRequest(ReasonRequest):
    pending_reason: str | None = Field(
        default=None,
        max_length=4000,
        description="Required when alerts still wait for a decision: why close and publish the "
        "record with them not adjudicated (later decisions become dated amendments).",
    )


class RunRead(_Schema):
    id: int
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    watchlist_id: int
    watchlist_digest: str
    threshold: float
    frames_processed: int | None = None
    face_detections: int | None = None
    faces_seen: int | None = Field(
        default=None, description="Confirmed face tracks: an estimate of the faces seen."
    )


class DeploymentRead(_Schema):
    id: int
    name: str
    location: str
    area: str
    purpose: str
    legal_basis: str
    threshold: float
    planned_start: datetime
    planned_end: datetime
    watchlist_id: int | None
    state: DeploymentState
    two_person: bool = Field(
        default=True, description="Engagements need a second, different person's confirmation."
    )
    created_at: datetime
    created_by: str
    authorised_by: str | None
    authorised_at: datetime | None
    authorisation_note: str
    closed_at: datetime | None
    closed_by: str | None
    purge_due_at: datetime | None
    purged_at: datetime | None
    alerts_total: int
    alerts_purged: int
    engaged: int
    not_engaged: int
    false_alerts: int
    calibration_id: int | None = Field(
        default=None, description="The stored calibration backing the threshold."
    )
    calibration_sha256: str | None = Field(
        default=None, description="SHA-256 of that calibration's document."
    )
    evidence_override: str | None = Field(
        default=None, description="Why the deployment may run without backing evidence."
    )
    evidence_override_threshold: float | None = Field(
        default=None, description="The lowest threshold the override covers."
    )
    evidence_override_by: str | None = None
    evidence_override_at: datetime | None = None
    legal_basis_category: str | None = None
    authority: str | None = None
    authority_reference: str | None = None
    authority_recorded_by: str | None = None
    authority_recorded_at: datetime | None = None
    authority_refused_at: datetime | None = None
    authority_refused_by: str | None = None
    authority_refusal: str | None = None
    impact_assessment_reference: str | None = None
    registration_reference: str | None = None
    signage_confirmed_at: datetime | None = None
    signage_confirmed_by: str | None = None
    urgent_started_at: datetime | None = None
    urgent_deadline: datetime | None = Field(
        default=None,
        description="An urgent start stops and purges at this time unless the "
        "authority's reference is recorded first.",
    )
    urgent_reason: str | None = None
    revoked_reason: str | None = None
    cameras: list[CameraRead]
    runs: list[RunRead]


class CameraLiveRead(_Schema):
    """A camera of a running deployment: state and counts (no face data)."""

    name: str
    state: str
    error: str | None
    frames: int
    faces: int
    tracks: int
    alerts: int
    dropped_frames: int


class GoLiveCheck(_Schema):
    """Whether a deployment may go live now, and if not, every reason."""

    ready: bool
    reasons: list[str] = Field(description="Each missing or failing requirement, in words.")
    missing: list[str] = Field(description="The requirement names that are missing.")
    urgent_possible: bool = Field(
        description="Only the authority's reference is missing: an urgent start may go live."
    )
