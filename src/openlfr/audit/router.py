"""Routes for reading and verifying the audit log and a deployment's Art. 12 record."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Query

from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import QueryRowId, RowId
from openlfr.audit import service
from openlfr.audit.actions import Action
from openlfr.audit.checkpoints import CheckpointError, read_checkpoints
from openlfr.audit.models import AuditEventRead, VerifyRead
from openlfr.audit.record import DeploymentRecord, deployment_record
from openlfr.storage.errors import NotFound
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["audit"])
Auditor = Annotated[Caller, need(P.AUDIT_READ)]


@router.get("/audit/events", response_model=Page[AuditEventRead])
def list_events(
    caller: Auditor,
    page: Paging,
    action: Annotated[Action | None, Query()] = None,
    deployment_id: QueryRowId = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[AuditEventRead]:
    """Audit events, oldest first, with their hashes (so a reader can check the chain)."""
    rows, total = service.list_events(
        caller.ctx.db,
        offset=page.offset,
        limit=page.limit,
        action=None if action is None else str(action),
        deployment_id=deployment_id,
        entity_type=entity_type,
        entity_id=entity_id,
    )
    items = [
        AuditEventRead.model_validate(
            {
                **{k: getattr(e, k) for k in AuditEventRead.model_fields},
                "details": service.details_of(e),
            }
        )
        for e in rows
    ]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)


@router.get("/audit/verify", response_model=VerifyRead)
def verify(caller: Auditor, plane: Plane) -> VerifyRead:
    """Re-compute the whole hash chain and compare it with this server's signed checkpoints;
    reports every problem found (it never fails because of what it finds)."""
    path = plane.checkpoints.path
    checkpoints = None
    file_problems: tuple[str, ...] = ()
    if path.is_file():
        try:
            found = read_checkpoints(path)
            checkpoints, file_problems = found.checkpoints, found.problems
        except CheckpointError as exc:
            file_problems = (str(exc),)
    report = service.verify(caller.ctx.db, checkpoints, plane.checkpoints.key.public_key)
    problems = list(report.problems) + list(file_problems)
    # Without a head row nothing can be appended; the report below says why.
    with contextlib.suppress(service.AuditUnavailable):
        service.record(
            caller.ctx,
            Action.AUDIT_VERIFIED,
            entity_type="audit",
            details={"ok": not problems, "events": report.events_checked, "head": report.head_hash},
        )
    return VerifyRead(
        ok=not problems,
        events_checked=report.events_checked,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        broken_at_seq=report.broken_at_seq,
        problem=problems[0] if problems else None,
        problems=problems,
        checkpoints_checked=report.checkpoints_checked,
        latest_checkpoint_seq=report.latest_checkpoint_seq,
        warnings=list(report.warnings),
    )


@router.get("/audit/deployments/{deployment_id}/record", response_model=DeploymentRecord)
def record(deployment_id: RowId, caller: Auditor) -> DeploymentRecord:
    """Each use's start and end, the watchlist version searched, the input behind each match
    and who verified it: rebuilt from the audit log, so it survives every purge."""
    result = deployment_record(caller.ctx.db, deployment_id)
    if result.events == 0:
        raise NotFound(f"the audit log holds nothing for deployment {deployment_id}")
    return result
