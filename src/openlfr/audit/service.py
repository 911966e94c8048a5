"""Appending to the audit log, reading it back, and verifying its chain."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from openlfr.audit.actions import Action
from openlfr.audit.chain import (
    EventContent,
    JSONValue,
    StoredEvent,
    VerifyReport,
    canonical_details,
    event_hash,
    verify_chain,
)
from openlfr.audit.checkpoints import Checkpoint, check_log
from openlfr.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.errors import Unavailable

_BATCH = 2000
# Rows that only audited actions create: a log that is empty beside them was emptied.
_AUDITED_TABLES = ("users", "watchlists", "deployments")


class AuditUnavailable(Unavailable):
    """The log cannot take new events (its head row is gone): audited actions are refused."""

    code = "audit_unavailable"


def record(
    ctx: Ctx,
    action: Action,
    *,
    entity_type: str,
    entity_id: int | str | None = None,
    deployment_id: int | None = None,
    details: Mapping[str, JSONValue] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction: it commits or rolls back with the change."""
    return append(
        ctx.db,
        ctx.actor,
        ctx.now,
        action,
        entity_type=entity_type,
        entity_id=entity_id,
        deployment_id=deployment_id,
        details=details,
    )


def append(
    db: Session,
    actor: Actor,
    at: datetime,
    action: Action,
    *,
    entity_type: str,
    entity_id: int | str | None = None,
    deployment_id: int | None = None,
    details: Mapping[str, JSONValue] | None = None,
) -> AuditEvent:
    """Append one event; the head row is locked until the transaction ends.

    Without its head row the chain cannot be extended safely, so every audited
    action is refused with :class:`AuditUnavailable` (a clear 503), never a crash.
    """
    head = db.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        raise AuditUnavailable(
            "the audit log's head row is missing, so nothing audited can be done until it is "
            "restored: run 'openlfr audit verify --checkpoints FILE', then "
            "'openlfr audit restore-head'"
        )
    content = EventContent(
        seq=head.last_seq + 1,
        at=at,
        actor=actor.label,
        actor_user_id=actor.user_id,
        action=str(action),
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        deployment_id=deployment_id,
        details=canonical_details(details or {}),
        credential=actor.credential,
    )
    digest = event_hash(head.last_hash, content)
    event = AuditEvent(
        seq=content.seq,
        at=content.at,
        actor=content.actor,
        actor_user_id=content.actor_user_id,
        action=content.action,
        entity_type=content.entity_type,
        entity_id=content.entity_id,
        deployment_id=content.deployment_id,
        details=content.details,
        credential=content.credential,
        prev_hash=head.last_hash,
        hash=digest,
    )
    db.add(event)
    head.last_seq = content.seq
    head.last_hash = digest
    db.flush()
    return event


def stored_event(event: AuditEvent) -> StoredEvent:
    """An event row as the chain code reads it."""
    return StoredEvent(
        content=EventContent(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            actor_user_id=event.actor_user_id,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            deployment_id=event.deployment_id,
            details=event.details,
            credential=event.credential,
        ),
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def iter_events(db: Session, *, deployment_id: int | None = None) -> Iterator[AuditEvent]:
    """Events in sequence order, read in batches (the log may be long)."""
    after = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq > after)
        if deployment_id is not None:
            query = query.where(AuditEvent.deployment_id == deployment_id)
        batch = db.execute(query.order_by(AuditEvent.seq).limit(_BATCH)).scalars().all()
        if not batch:
            return
        yield from batch
        after = batch[-1].seq


def verify(
    db: Session,
    checkpoints: Sequence[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> VerifyReport:
    """Re-compute the whole chain from genesis, compare it with the head and, when given,
    with signed checkpoints. Never raises for what it finds: it reports."""
    try:
        head = db.get(AuditHead, 1)
        head_pair = None if head is None else (head.last_seq, head.last_hash)
        report = verify_chain((stored_event(e) for e in iter_events(db)), head_pair)
        problems = list(report.problems)
        warnings: list[str] = []
        if head is None:
            problems.append(
                "the chain's head row is missing (deleted?): the end of the log cannot be "
                "checked without signed checkpoints, and nothing audited can be done"
            )
        log_end = report.head_seq
        if report.ok and report.events_checked == 0:
            other = _audited_rows(db)
            if other:
                problems.append(
                    f"the log is empty but the database holds {other} that only audited "
                    "actions create: the log was emptied"
                )
            else:
                warnings.append("the log is empty (nothing has happened yet)")
        checked, latest = 0, None
        if checkpoints is not None and public_key is not None:
            found = check_log(db, checkpoints, public_key, log_end=log_end)
            problems.extend(found.problems)
            checked = found.checked
            latest = None if found.latest is None else found.latest.seq
            if not checkpoints:
                warnings.append("no checkpoints to compare with")
        else:
            warnings.append(
                "not compared with signed checkpoints: a tail cut with a rewound head, or a "
                "whole log replaced, is only detectable with them (--checkpoints FILE)"
            )
    except SQLAlchemyError as exc:
        db.rollback()
        reason = f"the audit log cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        return VerifyReport(
            ok=False,
            events_checked=0,
            head_seq=0,
            head_hash=GENESIS_HASH,
            problem=reason,
            problems=(reason,),
        )
    return replace(
        report,
        ok=not problems,
        problem=problems[0] if problems else None,
        problems=tuple(problems),
        checkpoints_checked=checked,
        latest_checkpoint_seq=latest,
        warnings=tuple(warnings),
    )


def _audited_rows(db: Session) -> str:
    found = []
    for table in _AUDITED_TABLES:
        n = int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        if n:
            found.append(f"{n} {table}")
    return ", ".join(found)


def details_of(event: AuditEvent) -> dict[str, JSONValue]:
    value = json.loads(event.details)
    assert isinstance(value, dict)
    return value


def count_events(
    db: Session, *, action: str | None = None, deployment_id: int | None = None
) -> int:
    query = select(func.count()).select_from(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if deployment_id is not None:
        query = query.where(AuditEvent.deployment_id == deployment_id)
    return int(db.execute(query).scalar_one())


def list_events(
    db: Session,
    *,
    offset: int,
    limit: int,
    action: str | None = None,
    deployment_id: int | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
) -> tuple[list[AuditEvent], int]:
    """A page of events, oldest first, and how many match in total."""
    query = select(AuditEvent)
    count = select(func.count()).select_from(AuditEvent)
    filters = []
    if action is not None:
        filters.append(AuditEvent.action == action)
    if deployment_id is not None:
        filters.append(AuditEvent.deployment_id == deployment_id)
    if entity_type is not None:
        filters.append(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        filters.append(AuditEvent.entity_id == entity_id)
    if filters:
        query = query.where(*filters)
        count = count.where(*filters)
    rows = db.execute(query.order_by(AuditEvent.seq).offset(offset).limit(limit)).scalars().all()
    return list(rows), int(db.execute(count).scalar_one())


__all__ = [
    "GENESIS_HASH",
    "AuditUnavailable",
    "append",
    "count_events",
    "details_of",
    "iter_events",
    "list_events",
    "record",
    "stored_event",
    "verify",
]
