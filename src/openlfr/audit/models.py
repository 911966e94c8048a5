"""The audit log's tables (append-only events and the chain's head) and their API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.storage.base import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One event. ``hash`` = SHA-256 over the previous event's hash and this event's content.

    The table refuses UPDATE and DELETE through database triggers (see the
    migration); the chain makes any change made around them detectable.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    deployment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[str] = mapped_column(Text)
    # The session or token that acted ("session:12", "token:3"); hashed with the event.
    credential: Mapped[str | None] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest event's sequence number and hash, in one locked row.

    Appending reads and updates it under a lock, which serialises appends and
    also reveals a deleted tail of the log.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    deployment_id: int | None
    details: dict[str, Any]
    credential: str | None = None
    prev_hash: str
    hash: str


class VerifyRead(BaseModel):
    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    broken_at_seq: int | None
    problem: str | None
    problems: list[str] = []
    checkpoints_checked: int = 0
    latest_checkpoint_seq: int | None = None
    warnings: list[str] = []
