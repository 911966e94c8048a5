"""The evidence rule: a deployment goes live only on a threshold a stored calibration backs.

A threshold is *backed* when the deployment cites a stored calibration of the
same model as its watchlist's templates, whose threshold is at or below the
deployment's and whose watchlist size is at least the watchlist's. Otherwise the
deployment is refused at authorisation and at start, with the reason, unless an
authorising officer has recorded an override with a written reason (audited,
and published in the deployment record). An override covers the threshold it
was given for and any higher one (raising a threshold never raises FPIR).
"""

from __future__ import annotations

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.chain import JSONValue
from openlfr.calibrations import service as calibrations
from openlfr.config.server import GovernanceConfig
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, InvalidInput
from openlfr.watchlist_records.models import WatchlistVersion

ENTITY = "deployment"


def attach(ctx: Ctx, dep: Deployment, calibration_id: int | None) -> None:
    """Cite calibration ``calibration_id`` (``None`` detaches), copying its hash."""
    if calibration_id is None:
        dep.calibration_id = None
        dep.calibration_sha256 = None
        return
    row = calibrations.get(ctx, calibration_id)
    dep.calibration_id = row.id
    dep.calibration_sha256 = row.sha256


def problem(ctx: Ctx, dep: Deployment, wl: WatchlistVersion) -> str | None:
    """Why the deployment's threshold is not backed by evidence (``None`` when it is)."""
    if dep.calibration_id is None:
        return f"no stored calibration backs threshold {dep.threshold:.3f} for model {wl.model_id}"
    row = calibrations.get(ctx, dep.calibration_id)
    if row.sha256 != dep.calibration_sha256:
        return f"calibration {row.id} changed since it was attached (hash differs)"
    return calibrations.problem(
        row, model_id=wl.model_id, threshold=dep.threshold, subjects=len(wl.subjects)
    )


def require(ctx: Ctx, dep: Deployment, wl: WatchlistVersion, *, doing: str) -> dict[str, JSONValue]:
    """Refuse ``doing`` without evidence or an override; the audit details of what backs it."""
    reason = problem(ctx, dep, wl)
    if reason is None:
        return {"calibration_id": dep.calibration_id, "calibration_sha256": dep.calibration_sha256}
    if covered(dep):
        return {
            "evidence_override": dep.evidence_override,
            "evidence_override_by": dep.evidence_override_by,
            "unbacked_because": reason,
        }
    raise InvalidInput(
        f"cannot {doing} deployment {dep.id}: {reason}. Attach a calibration that backs it "
        "(calibration_id; see 'openlfr calibrate --record'), or an authorising officer records "
        "an override with a reason (POST /deployments/{id}/evidence-override)",
        field="calibration_id",
        code="threshold_unbacked",
    )


def covered(dep: Deployment) -> bool:
    """Whether an override covers the deployment's current threshold."""
    floor = dep.evidence_override_threshold
    return bool(dep.evidence_override) and floor is not None and dep.threshold >= floor - 1e-9


def override(
    ctx: Ctx,
    dep: Deployment,
    wl: WatchlistVersion | None,
    *,
    reason: str,
    threshold: float | None,
    policy: GovernanceConfig,
) -> Deployment:
    """Let this threshold run without backing evidence, for a written reason (audited)."""
    if dep.state == DeploymentState.CLOSED:
        raise Conflict(f"deployment {dep.id} is closed", code="invalid_state")
    if len(reason.strip()) < policy.min_reason_chars:
        raise InvalidInput(
            f"a reason of at least {policy.min_reason_chars} characters is required to run "
            "without a calibration backing the threshold",
            field="reason",
        )
    floor = dep.threshold if threshold is None else threshold
    unbacked = problem(ctx, dep, wl) if wl is not None else "no watchlist chosen yet"
    dep.evidence_override = reason.strip()
    dep.evidence_override_threshold = floor
    dep.evidence_override_by = ctx.actor.label
    dep.evidence_override_at = ctx.now
    ctx.db.flush()
    audit.record(
        ctx,
        Action.EVIDENCE_OVERRIDDEN,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "reason": dep.evidence_override,
            "threshold": dep.threshold,
            "covers_thresholds_from": floor,
            "model_id": wl.model_id if wl is not None else None,
            "calibration_id": dep.calibration_id,
            "unbacked_because": unbacked,
        },
    )
    return dep
