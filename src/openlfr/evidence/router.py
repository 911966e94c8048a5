"""Routes that export evidence: one alert's sealed pack, a deployment's use log (Art. 12)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.params import RowId
from openlfr.api.plane import ControlPlane
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.checkpoints import Checkpoint
from openlfr.evidence import pack, uselog
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["evidence"])
Exporter = Annotated[Caller, need(P.EVIDENCE_EXPORT)]
Auditor = Annotated[Caller, need(P.AUDIT_READ)]


def _checkpointer(plane: ControlPlane, caller: Caller) -> pack.Checkpointer:
    def take(reason: str) -> Checkpoint:
        # The checkpoint reads the head in its own transaction: release this one's lock
        # (SQLite) first; this request has written nothing yet.
        caller.ctx.db.commit()
        published = plane.checkpoints.publish(reason)
        assert published is not None
        return published.checkpoint

    return take


@router.get(
    "/alerts/{alert_id}/evidence-pack",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def evidence_pack(alert_id: RowId, caller: Exporter, plane: Plane) -> Response:
    """One alert's evidence pack: a sealed zip with both images, the scores, the model and
    threshold with its calibration, every decision and who made it, and the audit events
    with their chain proof to a signed checkpoint. ``openlfr evidence verify FILE`` checks it
    with no database."""
    built = pack.build(
        caller.ctx,
        alert_id,
        key=plane.checkpoints.key,
        checkpoint_file=plane.checkpoints.path,
        take_checkpoint=_checkpointer(plane, caller),
    )
    audit.record(
        caller.ctx,
        Action.EVIDENCE_EXPORTED,
        entity_type="alert",
        entity_id=alert_id,
        details={"checkpoint_seq": built.checkpoint.seq, "events": built.events},
    )
    name = pack.default_name(alert_id, caller.ctx.now)
    return Response(
        built.data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/deployments/{deployment_id}/use-log", response_class=Response)
def use_log(
    deployment_id: RowId,
    caller: Auditor,
    plane: Plane,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """The deployment's audit events and periods of use (EU AI Act Art. 12). JSON carries the
    chain proof to a signed checkpoint (``openlfr evidence verify`` checks it); CSV lists the
    events with their hashes."""
    log = uselog.build(
        caller.ctx,
        deployment_id,
        key=plane.checkpoints.key,
        checkpoint_file=plane.checkpoints.path,
        take_checkpoint=_checkpointer(plane, caller),
    )
    audit.record(
        caller.ctx,
        Action.USE_LOG_EXPORTED,
        entity_type="deployment",
        entity_id=deployment_id,
        deployment_id=deployment_id,
        details={"format": format, "checkpoint_seq": log.checkpoint.seq},
    )
    name = f"use-log-deployment-{deployment_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(log.csv_text(), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(log.json_bytes(), media_type="application/json", headers=headers)
