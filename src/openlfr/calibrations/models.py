"""Stored calibration documents: table and API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.storage.base import Base, UTCDateTime


class CalibrationRecord(Base):
    """One calibration document as submitted, with the fields the gate reads.

    The document itself (numbers only) is kept verbatim so its SHA-256 can be
    recomputed by anyone; the columns beside it are copies for queries.
    """

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    model_id: Mapped[str] = mapped_column(String(64), index=True)
    pack: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[float] = mapped_column(Float)
    target_fpir: Mapped[float] = mapped_column(Float)
    watchlist_size: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[bool] = mapped_column(Boolean)
    document: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class CalibrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] = Field(
        description="The JSON that 'openlfr calibrate --record FILE' wrote, unchanged."
    )
    note: str = Field(default="", max_length=4000, description="Where the data came from.")


class CalibrationRead(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: int
    sha256: str
    model_id: str
    pack: str
    dataset: str
    threshold: float
    target_fpir: float
    watchlist_size: int
    resolved: bool
    note: str
    created_at: datetime
    created_by: str
