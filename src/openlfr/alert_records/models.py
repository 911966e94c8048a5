"""Stored alerts (probe crop sealed in the blob store) and operators' adjudications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openlfr.storage.base import Base, UTCDateTime

if TYPE_CHECKING:
    from openlfr.episodes.models import Episode


class Decision(StrEnum):
    """The operator's judgement. ``engaged`` and ``not_engaged`` both mean "a viable match"."""

    ENGAGED = "engaged"
    NOT_ENGAGED = "not_engaged"
    FALSE_ALERT = "false_alert"


class Outcome(StrEnum):
    """What happened after an engagement."""

    ARRESTED = "arrested"
    ADVISED = "advised"
    NO_FURTHER_ACTION = "no_further_action"
    # Spoken to and found not to be the listed person: a confirmed false alert.
    NOT_THE_PERSON = "not_the_person"


class AlertRecord(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The id the pipeline gave the alert: a worker delivers it as an idempotency key, so an
    # alert retried after a lost acknowledgement is stored once.
    uid: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="RESTRICT"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(Integer)
    camera: Mapped[str] = mapped_column(String(64))
    watchlist_id: Mapped[int] = mapped_column(Integer)
    # The subject row is purged with the watchlist; the reference stays for the record.
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subjects.id", ondelete="SET NULL"), index=True
    )
    subject_reference: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    track_id: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    crop_blob_id: Mapped[str] = mapped_column(String(32), unique=True)
    crop_media_type: Mapped[str] = mapped_column(String(64))
    crop_sha256: Mapped[str] = mapped_column(String(64))
    # The queue item this sighting belongs to (episodes/), and a small scene thumbnail in
    # which everything but this face is obscured, sealed like the crop.
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_episodes.id", ondelete="SET NULL"), index=True
    )
    scene_blob_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    scene_media_type: Mapped[str | None] = mapped_column(String(64))
    scene_sha256: Mapped[str | None] = mapped_column(String(64))
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    hold_by: Mapped[str | None] = mapped_column(String(100))
    hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    adjudication: Mapped[Adjudication | None] = relationship(
        back_populates="alert", cascade="all, delete-orphan", passive_deletes=True
    )
    episode: Mapped[Episode | None] = relationship(lazy="joined")

    @property
    def verification(self) -> VerificationRead | None:
        """Two-person verification of the episode this alert belongs to, if one began."""
        ep = self.episode
        if ep is None or ep.verification is None:
            return None
        return VerificationRead.model_validate(ep)


class Adjudication(Base):
    __tablename__ = "adjudications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), unique=True)
    decision: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_by_id: Mapped[int | None] = mapped_column(Integer)
    # Rank, number and name at the time of the decision ("PC 1234 J. Smith").
    decided_by_person: Mapped[str | None] = mapped_column(String(200))

    alert: Mapped[AlertRecord] = relationship(back_populates="adjudication")


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class AdjudicationCreate(_Schema):
    decision: Decision
    outcome: Outcome | None = Field(
        default=None, description="Required when the decision is 'engaged', refused otherwise."
    )
    notes: str = Field(default="", max_length=4000)
    amendment_reason: str | None = Field(
        default=None,
        max_length=4000,
        description="Required once the deployment's record is published: why this decision "
        "comes late. It is then listed as a dated amendment; the published figures stay.",
    )

    @model_validator(mode="after")
    def _outcome_matches(self) -> AdjudicationCreate:
        if self.decision == Decision.ENGAGED and self.outcome is None:
            raise ValueError("an engagement needs an outcome")
        if self.decision != Decision.ENGAGED and self.outcome is not None:
            raise ValueError("only an engagement has an outcome")
        return self


class AdjudicationRead(_Schema):
    decision: Decision
    outcome: Outcome | None
    notes: str
    decided_at: datetime
    decided_by: str
    decided_by_person: str | None = Field(
        default=None, description="Rank, number and name of who decided, at the time."
    )


class VerificationRead(_Schema):
    """Both decisions on an engagement and whether the second person agreed."""

    verification: str = Field(description="proposed, confirmed or disputed.")
    proposed_at: datetime | None
    proposed_by: str | None
    proposed_by_person: str | None
    checked_at: datetime | None
    checked_by: str | None
    checked_by_person: str | None
    checked_decision: Decision | None


class HoldRequest(_Schema):
    hold: bool = Field(description="True places the alert on legal hold; False releases it.")
    reason: str = Field(max_length=4000, description="Why (required).")


class AlertRead(_Schema):
    id: int
    deployment_id: int
    run_id: int | None
    camera: str
    watchlist_id: int
    subject_id: int | None
    subject_reference: str
    score: float
    threshold: float
    track_id: str
    captured_at: datetime
    created_at: datetime
    crop_sha256: str
    legal_hold: bool
    hold_reason: str | None
    episode_id: int | None = None
    adjudication: AdjudicationRead | None
    verification: VerificationRead | None = Field(
        default=None, description="Two-person verification of an engagement, once begun."
    )


# The Episode class the relationship above names, registered wherever alerts are used.
import openlfr.episodes.models  # noqa: E402, F401
