"""Webhook subscriptions and the outbox: enqueue with the alert, claim due rows, record outcomes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from openlfr.alert_records.models import AlertRecord
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.deployments.models import Deployment
from openlfr.notify.models import Channel, Delivery, SubscriptionCreate, WebhookSubscription
from openlfr.storage.blobs import BlobStore
from openlfr.storage.context import Ctx
from openlfr.storage.errors import NotFound

ENTITY = "subscription"


def _secret_purpose(subscription_id: int) -> str:
    return f"webhook-secret:{subscription_id}"


def enqueue(ctx: Ctx, alert: AlertRecord, *, mqtt_enabled: bool) -> list[Delivery]:
    """One pending delivery per channel that wants this alert, in the alert's transaction."""
    rows = []
    if mqtt_enabled:
        rows.append(Delivery(channel=Channel.MQTT, subscription_id=None))
    subscriptions = ctx.db.execute(
        select(WebhookSubscription.id).where(
            WebhookSubscription.active.is_(True),
            or_(
                WebhookSubscription.deployment_id.is_(None),
                WebhookSubscription.deployment_id == alert.deployment_id,
            ),
        )
    ).scalars()
    rows.extend(Delivery(channel=Channel.WEBHOOK, subscription_id=sid) for sid in subscriptions)
    for row in rows:
        row.alert_id = alert.id
        row.next_attempt_at = ctx.now
        row.created_at = ctx.now
        ctx.db.add(row)
    ctx.db.flush()
    return rows


def create_subscription(ctx: Ctx, data: SubscriptionCreate) -> tuple[WebhookSubscription, str]:
    """A new webhook subscription and its secret (returned once, stored sealed)."""
    if data.deployment_id is not None and ctx.db.get(Deployment, data.deployment_id) is None:
        # Refused here rather than by the foreign key (which would fail the whole request).
        raise NotFound(f"no deployment with id {data.deployment_id}")
    secret = data.secret or secrets.token_urlsafe(32)
    sub = WebhookSubscription(
        name=data.name,
        url=str(data.url),
        secret=b"",
        deployment_id=data.deployment_id,
        active=True,
        created_at=ctx.now,
        created_by=ctx.actor.label,
    )
    ctx.db.add(sub)
    ctx.db.flush()
    sub.secret = ctx.blobs.seal_inline(secret.encode(), _secret_purpose(sub.id))
    audit.record(
        ctx,
        Action.SUBSCRIPTION_CREATED,
        entity_type=ENTITY,
        entity_id=sub.id,
        deployment_id=sub.deployment_id,
        details={"name": sub.name, "url": sub.url},
    )
    return sub, secret


def list_subscriptions(ctx: Ctx) -> list[WebhookSubscription]:
    return list(
        ctx.db.execute(select(WebhookSubscription).order_by(WebhookSubscription.id)).scalars()
    )


def remove_subscription(ctx: Ctx, subscription_id: int) -> None:
    sub = ctx.db.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    ctx.db.delete(sub)
    audit.record(
        ctx,
        Action.SUBSCRIPTION_REMOVED,
        entity_type=ENTITY,
        entity_id=subscription_id,
        details={"name": sub.name},
    )
    ctx.db.flush()


def list_deliveries(
    ctx: Ctx, *, offset: int, limit: int, pending_only: bool = False
) -> tuple[list[Delivery], int]:
    query = select(Delivery)
    count = select(func.count()).select_from(Delivery)
    if pending_only:
        query = query.where(Delivery.delivered_at.is_(None))
        count = count.where(Delivery.delivered_at.is_(None))
    rows = ctx.db.execute(query.order_by(Delivery.id.desc()).offset(offset).limit(limit))
    return list(rows.scalars().all()), int(ctx.db.execute(count).scalar_one())


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """Everything needed to attempt one delivery without holding a database transaction."""

    delivery_id: int
    channel: Channel
    alert: AlertRecord
    url: str | None
    secret: bytes | None


def due(db: Session, blobs: BlobStore, *, now: datetime, limit: int = 500) -> list[DueDelivery]:
    """Pending deliveries to attempt now, in alert order per destination.

    A destination whose oldest pending delivery is still backing off gets
    nothing this time: later alerts wait behind it, so every subscriber
    receives alerts in the order they were stored.
    """
    rows = db.execute(
        select(Delivery, AlertRecord, WebhookSubscription)
        .join(AlertRecord, AlertRecord.id == Delivery.alert_id)
        .outerjoin(WebhookSubscription, WebhookSubscription.id == Delivery.subscription_id)
        .where(Delivery.delivered_at.is_(None))
        .order_by(Delivery.alert_id, Delivery.id)
        .limit(limit)
    ).all()
    blocked: set[tuple[str, int | None]] = set()
    started: set[tuple[str, int | None]] = set()
    out = []
    for delivery, alert, sub in rows:
        destination = (delivery.channel, delivery.subscription_id)
        if destination in blocked:
            continue
        if destination not in started and delivery.next_attempt_at > now:
            blocked.add(destination)
            continue
        started.add(destination)
        secret = None
        if sub is not None:
            secret = blobs.open_inline(sub.secret, _secret_purpose(sub.id))
        out.append(
            DueDelivery(
                delivery_id=delivery.id,
                channel=Channel(delivery.channel),
                alert=alert,
                url=None if sub is None else sub.url,
                secret=secret,
            )
        )
    return out


def record_outcome(
    db: Session,
    delivery_id: int,
    *,
    now: datetime,
    error: str | None,
    retry_initial_s: float,
    retry_max_s: float,
) -> None:
    """Mark a delivery done, or schedule its retry with a doubling, capped wait."""
    delivery = db.get(Delivery, delivery_id)
    if delivery is None:  # the alert was purged meanwhile
        return
    delivery.attempts += 1
    if error is None:
        delivery.delivered_at = now
        delivery.last_error = None
        return
    wait = min(retry_initial_s * 2 ** (delivery.attempts - 1), retry_max_s)
    delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.last_error = error[:2000]
