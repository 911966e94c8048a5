"""Webhook subscriptions and the delivery outbox (one row per alert and channel)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.storage.base import Base, UTCDateTime
from openlfr.storage.fields import RefId


class Channel(StrEnum):
    MQTT = "mqtt"
    WEBHOOK = "webhook"


class WebhookSubscription(Base):
    """An HTTP endpoint that receives alerts, signed with its own secret (sealed at rest)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    # None: every deployment's alerts.
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class Delivery(Base):
    """A pending or finished delivery of one alert on one channel.

    Written in the same transaction as the alert, so an alert that is stored is
    always eventually delivered, however long a subscriber is down.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class SubscriptionCreate(_Schema):
    name: str = Field(min_length=1, max_length=100)
    url: AnyHttpUrl
    deployment_id: RefId | None = Field(default=None, description="Only this deployment's alerts.")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=512,
        description="HMAC key; generated (and shown once) when omitted.",
    )


class SubscriptionRead(_Schema):
    id: int
    name: str
    url: str
    deployment_id: int | None
    active: bool
    created_at: datetime
    created_by: str


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="The HMAC key. Shown once; store it now.")


class DeliveryRead(_Schema):
    id: int
    alert_id: int
    channel: Channel
    subscription_id: int | None
    delivered_at: datetime | None
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
