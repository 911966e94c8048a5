"""Store calibration documents and decide whether one backs a deployment's threshold."""

from __future__ import annotations

import json

from sqlalchemy import select

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.calibrations.models import CalibrationRecord
from openlfr.evaluation.evidence import (
    CalibrationEvidence,
    EvidenceError,
    backing_problem,
    parse_document,
)
from openlfr.storage.context import Ctx
from openlfr.storage.errors import InvalidInput, NotFound

ENTITY = "calibration"


def get(ctx: Ctx, calibration_id: int) -> CalibrationRecord:
    row = ctx.db.get(CalibrationRecord, calibration_id)
    if row is None:
        raise NotFound(f"no calibration with id {calibration_id}")
    return row


def list_calibrations(ctx: Ctx) -> list[CalibrationRecord]:
    return list(ctx.db.execute(select(CalibrationRecord).order_by(CalibrationRecord.id)).scalars())


def store(ctx: Ctx, document: object, *, note: str = "") -> CalibrationRecord:
    """Keep a calibration document (the same document twice is one record)."""
    try:
        evidence = parse_document(document)
    except EvidenceError as exc:
        raise InvalidInput(str(exc), field="document") from exc
    existing = ctx.db.execute(
        select(CalibrationRecord).where(CalibrationRecord.sha256 == evidence.sha256)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    row = CalibrationRecord(
        sha256=evidence.sha256,
        model_id=evidence.model_id,
        pack=evidence.pack,
        dataset=evidence.dataset,
        threshold=evidence.threshold,
        target_fpir=evidence.target_fpir,
        watchlist_size=evidence.watchlist_size,
        resolved=evidence.resolved,
        document=json.dumps(document, sort_keys=True),
        note=note,
        created_at=ctx.now,
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.CALIBRATION_STORED,
        entity_type=ENTITY,
        entity_id=row.id,
        details={
            "sha256": row.sha256,
            "model_id": row.model_id,
            "dataset": row.dataset,
            "threshold": row.threshold,
            "target_fpir": row.target_fpir,
            "watchlist_size": row.watchlist_size,
            "resolved": row.resolved,
        },
    )
    return row


def evidence_of(row: CalibrationRecord) -> CalibrationEvidence:
    """The stored document, re-read and re-hashed (a row edited in place no longer matches)."""
    evidence = parse_document(json.loads(row.document))
    if evidence.sha256 != row.sha256:
        raise EvidenceError(
            f"calibration {row.id}'s document no longer matches its hash {row.sha256[:12]}"
        )
    return evidence


def problem(
    row: CalibrationRecord, *, model_id: str, threshold: float, subjects: int
) -> str | None:
    """Why calibration ``row`` does not back this threshold and watchlist (``None``: it does)."""
    try:
        evidence = evidence_of(row)
    except EvidenceError as exc:
        return str(exc)
    reason = backing_problem(evidence, model_id=model_id, threshold=threshold, subjects=subjects)
    return None if reason is None else f"calibration {row.id}: {reason}"
