"""The law's clock on a deployment: the authority's answer, urgent deadlines, authorised ends.

A refusal, or an urgent start whose deadline passes with no reference recorded,
*revokes* the deployment (EU AI Act Art. 5(3)): it stops at once, every alert
and crop (held or not) and its watchlist are purged, it is closed, and each step
is audited. A live deployment whose authorised end (``planned_end``) passes is
stopped. :func:`enforce` applies these as of ``ctx.now`` (the scheduler calls it
with the injectable clock); it returns the deployments whose cameras must stop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from openlfr.alert_records.models import AlertRecord
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.authorisation import AuthorisationConfig
from openlfr.deployments import service as deployments
from openlfr.deployments.models import AuthorityRecord, Deployment, DeploymentState
from openlfr.reports import publication
from openlfr.storage.context import Ctx, drop_blob
from openlfr.storage.errors import Conflict
from openlfr.watchlist_records import lifecycle
from openlfr.watchlist_records import service as watchlists

ENTITY = "deployment"
S = DeploymentState


@dataclass(slots=True)
class ClockReport:
    """What one pass of the clock did: deployments stopped, and those revoked and purged."""

    stopped: list[int] = field(default_factory=list)
    revoked: list[int] = field(default_factory=list)


def record_authority(ctx: Ctx, dep: Deployment, data: AuthorityRecord) -> Deployment:
    """Keep the authority's reference, or its refusal (which revokes the deployment at once)."""
    deployments.require_state(dep, S.DRAFT, S.AUTHORISED, S.LIVE, doing="record the authority of")
    if dep.authority_refused_at is not None:
        raise Conflict(f"the authority refused deployment {dep.id}", code="refused")
    authority = (data.authority or dep.authority or "").strip() or None
    if data.refused:
        dep.authority = authority
        dep.authority_refused_at = ctx.now
        dep.authority_refused_by = ctx.actor.label
        dep.authority_refusal = data.reason.strip()
        ctx.db.flush()
        audit.record(
            ctx,
            Action.AUTHORITY_REFUSED,
            entity_type=ENTITY,
            entity_id=dep.id,
            deployment_id=dep.id,
            details={"authority": authority, "reason": dep.authority_refusal},
        )
        revoke(ctx, dep, reason=f"the authority refused: {dep.authority_refusal or 'no reason'}")
        return dep
    assert data.reference is not None
    dep.authority = authority
    dep.authority_reference = data.reference.strip()
    dep.authority_recorded_by = ctx.actor.label
    dep.authority_recorded_at = ctx.now
    ctx.db.flush()
    audit.record(
        ctx,
        Action.AUTHORITY_RECORDED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "authority": authority,
            "reference": dep.authority_reference,
            "urgent_deadline": None
            if dep.urgent_deadline is None
            else dep.urgent_deadline.isoformat(),
        },
    )
    return dep


def revoke(ctx: Ctx, dep: Deployment, *, reason: str) -> None:
    """Stop at once, purge every alert, crop and the watchlist, close; each step audited."""
    if dep.state == S.LIVE:
        deployments.stop(ctx, dep, reason=f"revoked: {reason}")
    alerts = (
        ctx.db.execute(
            select(AlertRecord).where(AlertRecord.deployment_id == dep.id).order_by(AlertRecord.id)
        )
        .scalars()
        .all()
    )
    ids = [a.id for a in alerts]
    for alert in alerts:
        drop_blob(ctx, alert.crop_blob_id)
        ctx.db.delete(alert)
    dep.alerts_purged += len(ids)
    ctx.db.flush()
    if ids:
        audit.record(
            ctx,
            Action.ALERTS_PURGED,
            entity_type="alert",
            deployment_id=dep.id,
            details={"alert_ids": ids, "reason": reason},
        )
    images = 0
    if dep.watchlist_id is not None:
        wl = watchlists.get(ctx, dep.watchlist_id, lock=True)
        images = lifecycle.purge(ctx, wl, deployment_id=dep.id, reason=f"revoked: {reason}")
    dep.state = S.CLOSED
    dep.closed_at = dep.purge_due_at = dep.purged_at = ctx.now
    dep.closed_by = ctx.actor.label
    dep.revoked_reason = reason
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_REVOKED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={"reason": reason, "alerts_purged": len(ids), "images_purged": images},
    )
    publication.publish(ctx, dep, force=True)


def enforce(ctx: Ctx, config: AuthorisationConfig) -> ClockReport:
    """Revoke urgent starts past their deadline; stop live deployments past their end."""
    del config  # the deadlines were fixed when each clock opened
    report = ClockReport()
    due = ctx.db.execute(
        select(Deployment)
        .where(
            Deployment.state.in_([S.AUTHORISED, S.LIVE]),
            or_(
                Deployment.urgent_deadline <= ctx.now,
                (Deployment.state == S.LIVE) & (Deployment.planned_end <= ctx.now),
            ),
        )
        .order_by(Deployment.id)
        .with_for_update()
    ).scalars()
    for dep in list(due):
        expired = (
            dep.urgent_deadline is not None
            and dep.urgent_deadline <= ctx.now
            and not dep.authority_reference
        )
        was_live = dep.state == S.LIVE
        if expired:
            assert dep.urgent_deadline is not None
            revoke(
                ctx,
                dep,
                reason="urgent start: no authority reference recorded by "
                + dep.urgent_deadline.isoformat(),
            )
            report.revoked.append(dep.id)
        elif was_live and dep.planned_end <= ctx.now:
            deployments.stop(ctx, dep, reason="the authorised period ended")
        else:
            continue
        if was_live:
            report.stopped.append(dep.id)
    return report
