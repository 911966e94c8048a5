"""Claims on alerts and the queue's recent changes, kept where every hub process sees them."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.storage.base import Base


class AlertClaim(Base):
    """An operator has taken an alert to decide it (until ``expires_at``, seconds since the
    epoch). One row per alert: a take-over replaces it, a release or decision removes it."""

    __tablename__ = "alert_claims"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[float] = mapped_column(Float)


class QueueEvent(Base):
    """One change every open console must hear (claim, release, decision), in commit order.

    Each hub process tells its own consoles what it did at once and reads the
    others' changes from here (``notify.feed``); rows are kept for minutes only,
    the newest always, so ids never go back (SQLite reuses the highest free id).
    """

    __tablename__ = "queue_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float, index=True)
