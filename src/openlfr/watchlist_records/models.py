"""Watchlist versions, subjects and reference images (sealed): tables and API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field
from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openlfr.storage.base import Base, UTCDateTime


class WatchlistState(StrEnum):
    """``open``: editable. ``frozen``: approved for a deployment, never edited again (changes
    go into a new version). ``purged``: its subjects, images and templates are deleted."""

    OPEN = "open"
    FROZEN = "frozen"
    PURGED = "purged"


class WatchlistVersion(Base):
    __tablename__ = "watchlists"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    model_id: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=WatchlistState.OPEN)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("watchlists.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 over the subjects and their images' hashes, fixed when frozen: the
    # audit log cites it as "the watchlist version searched".
    content_digest: Mapped[str | None] = mapped_column(String(64))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subjects_purged: Mapped[int] = mapped_column(Integer, default=0)
    images_purged: Mapped[int] = mapped_column(Integer, default=0)

    subjects: Mapped[list[Subject]] = relationship(
        back_populates="watchlist",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Subject.id",
    )


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("watchlist_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    # Queue priority, set from the category at enrolment (governance.category_priorities).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    notes: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    watchlist: Mapped[WatchlistVersion] = relationship(back_populates="subjects")
    images: Mapped[list[ReferenceImage]] = relationship(
        back_populates="subject",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReferenceImage.id",
    )


class ReferenceImage(Base):
    """A reference photo (sealed in the blob store) and its template (sealed in this row)."""

    __tablename__ = "reference_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    blob_id: Mapped[str] = mapped_column(String(32), unique=True)
    media_type: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(255))
    image_source: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(64))
    template: Mapped[bytes] = mapped_column(LargeBinary)
    inter_eye_px: Mapped[float] = mapped_column(Float)
    sharpness: Mapped[float] = mapped_column(Float)
    yaw: Mapped[float] = mapped_column(Float)
    pitch: Mapped[float] = mapped_column(Float)
    roll: Mapped[float] = mapped_column(Float)
    det_score: Mapped[float] = mapped_column(Float)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(100))

    subject: Mapped[Subject] = relationship(back_populates="images")


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class WatchlistCreate(_Schema):
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="1-64 letters, digits, '.', '_' or '-'.",
        examples=["westfield-2026-11-28"],
    )
    description: str = Field(default="", max_length=4000)


class ReferenceImageRead(_Schema):
    id: int
    source_name: str
    image_source: str
    media_type: str
    sha256: str
    inter_eye_px: float
    sharpness: float
    yaw: float
    pitch: float
    det_score: float
    enrolled_at: datetime
    added_by: str


class SubjectRead(_Schema):
    id: int
    watchlist_id: int
    reference: str
    name: str | None
    category: str
    priority: int = Field(default=0, description="Queue priority, from the category.")
    notes: str
    added_at: datetime
    added_by: str
    expires_at: datetime
    images: list[ReferenceImageRead]


class WatchlistRead(_Schema):
    id: int
    name: str
    version: int
    description: str
    model_id: str
    state: WatchlistState
    parent_id: int | None
    created_at: datetime
    created_by: str
    frozen_at: datetime | None
    content_digest: str | None
    purged_at: datetime | None
    subject_count: int
    image_count: int
    subjects_purged: int
    images_purged: int


class ImageData(_Schema):
    """One reference photo, base64-encoded in the JSON body (kept in memory only)."""

    name: str = Field(min_length=1, max_length=255, description="File name, for provenance.")
    data: Base64Bytes = Field(description="The image file's bytes, base64 (JPEG, PNG, …).")


REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$"


class SubjectEnrol(_Schema):
    reference: str = Field(
        pattern=REFERENCE_PATTERN,
        description="The force's reference for the person (e.g. a custody or warrant number).",
    )
    name: str | None = Field(default=None, max_length=200)
    category: str = Field(description="Reason / offence category, from the configured list.")
    image_source: str = Field(
        min_length=1, max_length=100, description="Where the photos come from, e.g. 'custody'."
    )
    notes: str = Field(default="", max_length=4000)
    expires_at: datetime | None = Field(
        default=None, description="When the authority to seek this person ends."
    )
    images: list[ImageData] = Field(min_length=1, max_length=20)


class ImagesAdd(_Schema):
    image_source: str = Field(min_length=1, max_length=100)
    images: list[ImageData] = Field(min_length=1, max_length=20)
