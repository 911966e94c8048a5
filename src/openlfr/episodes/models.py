"""Alert episodes: one queue item per subject's repeated sightings, and its verification."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.alert_records.models import Decision, Outcome
from openlfr.storage.base import Base, UTCDateTime


class Verification(StrEnum):
    """Where two-person verification of an engagement stands.

    ``proposed``: one person chose "engage"; nobody may act on it yet.
    ``confirmed``: a second, different person agreed; the engagement is actionable.
    ``disputed``: the second person disagreed; nobody acts, their decision stands.
    """

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class Episode(Base):
    """Sightings of one subject in one deployment close together in time: one queue item.

    A sighting joins the subject's undecided episode when it was captured within the
    configured window of that episode's latest one (any camera); else it opens a new
    episode. Deciding an episode decides each of its alerts ("looks").
    """

    __tablename__ = "alert_episodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subjects.id", ondelete="SET NULL"), index=True
    )
    subject_reference: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # When the first alert was stored: how long the item has waited for a decision.
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    looks: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[float] = mapped_column(Float)
    best_alert_id: Mapped[int | None] = mapped_column(Integer)
    # Camera names, comma-separated in the order first seen.
    cameras: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(16))
    # Two-person verification: the first "engage", and the second person's answer.
    verification: Mapped[str | None] = mapped_column(String(16))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposed_by: Mapped[str | None] = mapped_column(String(100))
    proposed_by_id: Mapped[int | None] = mapped_column(Integer)
    proposed_by_person: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_by: Mapped[str | None] = mapped_column(String(100))
    checked_by_id: Mapped[int | None] = mapped_column(Integer)
    checked_by_person: Mapped[str | None] = mapped_column(String(200))
    checked_decision: Mapped[str | None] = mapped_column(String(16))

    @property
    def camera_list(self) -> list[str]:
        return [c for c in self.cameras.split(",") if c]

    @property
    def pending(self) -> bool:
        return self.decided_at is None


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class EpisodeDecision(_Schema):
    decision: Decision
    outcome: Outcome | None = Field(
        default=None,
        description="What came of an engagement. With two-person verification, given once "
        "the engagement is confirmed (by either person); refused for other decisions.",
    )
    notes: str = Field(default="", max_length=4000)
    amendment_reason: str | None = Field(
        default=None,
        max_length=4000,
        description="Required once the deployment's record is published (a late decision).",
    )


class LookRead(_Schema):
    """One alert of the episode: where and when it was seen, and how well it matched."""

    id: int
    camera: str
    score: float
    captured_at: datetime
    track_id: str
    scene: bool = Field(description="A scene thumbnail (all but this face obscured) is kept.")


class EpisodeRead(_Schema):
    id: int
    deployment_id: int
    subject_id: int | None
    subject_reference: str
    category: str
    priority: int
    opened_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    looks: int
    best_score: float
    best_alert_id: int | None
    cameras: list[str] = Field(validation_alias=AliasChoices("camera_list", "cameras"))
    decided_at: datetime | None
    decision: Decision | None
    verification: Verification | None
    proposed_at: datetime | None
    proposed_by: str | None
    proposed_by_person: str | None
    checked_at: datetime | None
    checked_by: str | None
    checked_by_person: str | None
    checked_decision: Decision | None


class EpisodeDetail(EpisodeRead):
    every_look: list[LookRead]
