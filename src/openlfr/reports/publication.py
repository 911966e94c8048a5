"""Publishing a deployment record once: frozen at publication, later changes listed as amendments.

A closed deployment's record is published as soon as its figures are complete
(at close, or once the cameras' last counts arrive when the close stopped them).
The published JSON, its SHA-256 and the audit anchor it names are stored and
never rebuilt; the publication itself is an audit event carrying that digest.
Anything recorded for the deployment afterwards (a late decision, a late alert,
late counts) leaves the published figures alone and is listed, dated and
attributed, under ``amendments``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.models import AuditEvent
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.base import Base, UTCDateTime
from openlfr.storage.context import Ctx

# What, recorded after publication, amends a record (and how the record names it).
AMENDING = {
    str(Action.ALERT_ADJUDICATED): "late decision",
    str(Action.ALERT_CREATED): "late alert",
    str(Action.RUN_COUNTS_RECORDED): "late camera counts",
}


class PublishedRecordRow(Base):
    """A deployment's record as published (JSON), and where the audit log was at that moment."""

    __tablename__ = "published_records"

    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    record: Mapped[str] = mapped_column(Text)
    record_sha256: Mapped[str] = mapped_column(String(64))
    # The publication's own audit event: later events of the deployment are amendments.
    audit_seq: Mapped[int] = mapped_column(Integer)


class Amendment(BaseModel):
    """Something recorded for the deployment after its record was published."""

    kind: str
    at: datetime
    by: str
    alert_id: int | None
    audit_seq: int
    decision: str | None = None
    outcome: str | None = None
    reason: str | None = None


def published(db: Session, deployment_id: int) -> PublishedRecordRow | None:
    return db.get(PublishedRecordRow, deployment_id)


def counts_pending(dep: Deployment) -> bool:
    """True while the period of use the close ended still waits for its cameras' counts."""
    last = dep.runs[-1] if dep.runs else None
    return (
        last is not None
        and last.faces_seen is None
        and last.ended_at is not None
        and dep.closed_at is not None
        and last.ended_at >= dep.closed_at
    )


def publish(ctx: Ctx, dep: Deployment, *, force: bool = False) -> PublishedRecordRow | None:
    """Publish a closed deployment's record if it is complete (or ``force``); idempotent."""
    from openlfr.reports.record import compute_record

    if dep.state != DeploymentState.CLOSED:
        return None
    row = published(ctx.db, dep.id)
    if row is not None or (counts_pending(dep) and not force):
        return row
    ctx.db.flush()
    record = compute_record(ctx.db, dep.id, now=ctx.now)
    text = record.model_dump_json()
    digest = hashlib.sha256(text.encode()).hexdigest()
    event = audit.record(
        ctx,
        Action.DEPLOYMENT_RECORD_PUBLISHED,
        entity_type="deployment",
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "record_sha256": digest,
            "audit_head_seq": record.audit_head_seq,
            "alerts": record.alerts,
            "false_alerts": record.false_alerts,
            "not_adjudicated": record.not_adjudicated,
            "complete": not counts_pending(dep),
        },
    )
    row = PublishedRecordRow(
        deployment_id=dep.id,
        published_at=ctx.now,
        record=text,
        record_sha256=digest,
        audit_seq=event.seq,
    )
    ctx.db.add(row)
    ctx.db.flush()
    return row


def amendments(db: Session, row: PublishedRecordRow) -> list[Amendment]:
    """The deployment's amending events after its publication, oldest first."""
    events = db.execute(
        select(AuditEvent)
        .where(
            AuditEvent.deployment_id == row.deployment_id,
            AuditEvent.seq > row.audit_seq,
            AuditEvent.action.in_(list(AMENDING)),
        )
        .order_by(AuditEvent.seq)
    ).scalars()
    found = []
    for event in events:
        d = audit.details_of(event)
        text = {k: v for k, v in d.items() if isinstance(v, str)}
        found.append(
            Amendment(
                kind=AMENDING[event.action],
                at=event.at,
                by=event.actor,
                alert_id=int(event.entity_id)
                if event.entity_type == "alert" and event.entity_id
                else None,
                audit_seq=event.seq,
                decision=text.get("decision"),
                outcome=text.get("outcome"),
                reason=text.get("amendment_reason"),
            )
        )
    return found
