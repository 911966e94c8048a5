"""Deployments and their state machine: plan, authorise, start, stop, change threshold, close."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from openlfr.alert_records.models import AlertRecord
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.chain import JSONValue
from openlfr.audit.models import AuditEvent
from openlfr.config.authorisation import AuthorisationConfig
from openlfr.config.server import GovernanceConfig, RetentionConfig
from openlfr.deployments import camera_sources, evidence, legal
from openlfr.deployments.models import (
    Camera,
    CameraCreate,
    Deployment,
    DeploymentCreate,
    DeploymentRun,
    DeploymentState,
    DeploymentUpdate,
    StartRequest,
)
from openlfr.reports import publication
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, Forbidden, InvalidInput, NotFound
from openlfr.watchlist_records import lifecycle
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import WatchlistState, WatchlistVersion

ENTITY = "deployment"
S = DeploymentState


def get(ctx: Ctx, deployment_id: int, *, lock: bool = False) -> Deployment:
    query = select(Deployment).where(Deployment.id == deployment_id)
    if lock:
        query = query.with_for_update()
    dep = ctx.db.execute(query).scalar_one_or_none()
    if dep is None:
        raise NotFound(f"no deployment with id {deployment_id}")
    return dep


def list_deployments(
    ctx: Ctx, *, offset: int, limit: int, state: DeploymentState | None = None
) -> tuple[list[Deployment], int]:
    query = select(Deployment).options(
        selectinload(Deployment.cameras), selectinload(Deployment.runs)
    )
    count = select(func.count()).select_from(Deployment)
    if state is not None:
        query = query.where(Deployment.state == state)
        count = count.where(Deployment.state == state)
    rows = ctx.db.execute(query.order_by(Deployment.id).offset(offset).limit(limit))
    return list(rows.scalars().all()), int(ctx.db.execute(count).scalar_one())


def _require(dep: Deployment, *states: DeploymentState, doing: str) -> None:
    if dep.state not in states:
        allowed = " or ".join(states)
        raise Conflict(
            f"cannot {doing} deployment {dep.id}: it is {dep.state}, must be {allowed}",
            code="invalid_state",
        )


require_state = _require


def _check_watchlist(ctx: Ctx, watchlist_id: int, *, deployment_id: int | None) -> None:
    wl = watchlists.get(ctx, watchlist_id)
    if wl.state == WatchlistState.PURGED:
        raise InvalidInput(f"watchlist {watchlist_id} is purged", field="watchlist_id")
    other = ctx.db.execute(
        select(Deployment.id).where(
            Deployment.watchlist_id == watchlist_id, Deployment.id != (deployment_id or -1)
        )
    ).scalar_one_or_none()
    if other is not None:
        raise Conflict(
            f"watchlist {watchlist_id} belongs to deployment {other}; each deployment needs its "
            "own watchlist version (make a new version)",
            code="watchlist_in_use",
        )


_LEGAL_FIELDS = (
    "legal_basis_category",
    "authority",
    "impact_assessment_reference",
    "registration_reference",
)


def create(
    ctx: Ctx,
    data: DeploymentCreate,
    *,
    default_threshold: float,
    authorisation: AuthorisationConfig | None = None,
) -> Deployment:
    legal.check_category(data.legal_basis_category, authorisation or AuthorisationConfig())
    if data.watchlist_id is not None:
        _check_watchlist(ctx, data.watchlist_id, deployment_id=None)
    names = [c.name for c in data.cameras]
    if len(set(names)) != len(names):
        raise InvalidInput("camera names must be unique", field="cameras")
    dep = Deployment(
        name=data.name,
        location=data.location,
        area=data.area,
        purpose=data.purpose,
        legal_basis=data.legal_basis,
        threshold=default_threshold if data.threshold is None else data.threshold,
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        watchlist_id=data.watchlist_id,
        two_person=data.two_person,
        state=S.DRAFT,
        created_at=ctx.now,
        created_by=ctx.actor.label,
        **{k: getattr(data, k) for k in _LEGAL_FIELDS},
    )
    evidence.attach(ctx, dep, data.calibration_id)
    ctx.db.add(dep)
    ctx.db.flush()
    # Cameras after the deployment has its id: their sealed addresses are bound to it.
    dep.cameras.extend(camera_sources.new_camera(ctx, dep.id, c) for c in data.cameras)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_CREATED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "name": dep.name,
            "location": dep.location,
            "area": dep.area,
            "purpose": dep.purpose,
            "legal_basis": dep.legal_basis,
            "threshold": dep.threshold,
            "planned_start": dep.planned_start.isoformat(),
            "planned_end": dep.planned_end.isoformat(),
            "watchlist_id": dep.watchlist_id,
            "calibration_id": dep.calibration_id,
            "calibration_sha256": dep.calibration_sha256,
            "two_person": dep.two_person,
            "cameras": names,
            **{k: getattr(dep, k) for k in _LEGAL_FIELDS},
        },
    )
    return dep


def update(
    ctx: Ctx,
    dep: Deployment,
    data: DeploymentUpdate,
    *,
    authorisation: AuthorisationConfig | None = None,
) -> Deployment:
    """Edit a draft; once authorised only the legal record's references may still be added
    (an assessment or registration often comes after the internal authorisation)."""
    changes = data.model_dump(exclude_unset=True)
    if dep.state != S.AUTHORISED or not set(changes) <= set(_LEGAL_FIELDS):
        _require(dep, S.DRAFT, doing="edit")
    if "legal_basis_category" in changes:
        legal.check_category(
            changes["legal_basis_category"], authorisation or AuthorisationConfig()
        )
    if "watchlist_id" in changes and changes["watchlist_id"] is not None:
        _check_watchlist(ctx, changes["watchlist_id"], deployment_id=dep.id)
    for key, value in list(changes.items()):
        if key in ("planned_start", "planned_end") and (value is None or value.tzinfo is None):
            raise InvalidInput(f"{key} needs a time zone", field=key)
        if key == "calibration_id":
            evidence.attach(ctx, dep, value)
            changes["calibration_sha256"] = dep.calibration_sha256
            continue
        setattr(dep, key, value)
    if dep.planned_end <= dep.planned_start:
        raise InvalidInput("planned_end must be after planned_start", field="planned_end")
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_UPDATED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in changes.items()},
    )
    return dep


def add_camera(ctx: Ctx, dep: Deployment, data: CameraCreate) -> Camera:
    _require(dep, S.DRAFT, doing="add a camera to")
    if any(c.name == data.name for c in dep.cameras):
        raise Conflict(f"deployment {dep.id} already has a camera {data.name!r}", code="exists")
    camera = camera_sources.new_camera(ctx, dep.id, data)
    dep.cameras.append(camera)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.CAMERA_ADDED,
        entity_type="camera",
        entity_id=camera.id,
        deployment_id=dep.id,
        details={"name": camera.name},
    )
    return camera


def remove_camera(ctx: Ctx, dep: Deployment, camera_id: int) -> None:
    _require(dep, S.DRAFT, doing="remove a camera from")
    camera = next((c for c in dep.cameras if c.id == camera_id), None)
    if camera is None:
        raise NotFound(f"deployment {dep.id} has no camera {camera_id}")
    dep.cameras.remove(camera)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.CAMERA_REMOVED,
        entity_type="camera",
        entity_id=camera_id,
        deployment_id=dep.id,
        details={"name": camera.name},
    )


_PLANNING = (
    Action.DEPLOYMENT_CREATED,
    Action.DEPLOYMENT_UPDATED,
    Action.CAMERA_ADDED,
    Action.CAMERA_REMOVED,
)


def planners(ctx: Ctx, dep: Deployment) -> set[int]:
    """The accounts that created or edited the draft, read from the audit log."""
    rows = ctx.db.execute(
        select(AuditEvent.actor_user_id).where(
            AuditEvent.deployment_id == dep.id,
            AuditEvent.action.in_([str(a) for a in _PLANNING]),
            AuditEvent.actor_user_id.is_not(None),
        )
    ).scalars()
    return {r for r in rows if r is not None}


def authorise(
    ctx: Ctx,
    dep: Deployment,
    *,
    note: str,
    policy: GovernanceConfig | None = None,
    authority_reference: str | None = None,
) -> Deployment:
    """An authorising officer approves the plan; the watchlist is frozen from now on.

    With ``policy.separate_authoriser`` (the default) the officer must not be one who
    planned or edited the draft: two people stand behind every deployment.
    """
    _require(dep, S.DRAFT, doing="authorise")
    separate = policy is None or policy.separate_authoriser
    if separate and ctx.actor.user_id is not None and ctx.actor.user_id in planners(ctx, dep):
        raise Forbidden(
            "you planned or edited this deployment: another authorising officer must "
            "authorise it (separation of duties)",
            code="same_planner",
        )
    if dep.watchlist_id is None:
        raise InvalidInput("choose a watchlist before authorising", field="watchlist_id")
    if not dep.cameras:
        raise InvalidInput("add at least one camera before authorising", field="cameras")
    if dep.planned_end <= ctx.now:
        raise InvalidInput("the planned end has passed", field="planned_end")
    wl = watchlists.get(ctx, dep.watchlist_id, lock=True)
    _check_watchlist(ctx, wl.id, deployment_id=dep.id)
    if not wl.subjects:
        raise InvalidInput(f"watchlist {wl.name} v{wl.version} is empty", field="watchlist_id")
    expiring = [s.reference for s in wl.subjects if s.expires_at < dep.planned_end]
    if expiring:
        raise InvalidInput(
            "these subjects' authority expires before the deployment ends: "
            + ", ".join(sorted(expiring))
            + "; remove them in a new watchlist version or shorten the deployment",
            field="watchlist_id",
            code="subjects_expire",
        )
    backing = evidence.require(ctx, dep, wl, doing="authorise")
    lifecycle.freeze(ctx, wl, deployment_id=dep.id)
    dep.state = S.AUTHORISED
    dep.authorised_at = ctx.now
    dep.authorised_by = ctx.actor.label
    dep.authorised_by_id = ctx.actor.user_id
    dep.authorisation_note = note
    if authority_reference and authority_reference.strip():
        dep.authority_reference = authority_reference.strip()
        dep.authority_recorded_by = ctx.actor.label
        dep.authority_recorded_at = ctx.now
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_AUTHORISED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "note": note,
            "threshold": dep.threshold,
            "watchlist_id": wl.id,
            "watchlist_name": wl.name,
            "watchlist_version": wl.version,
            "watchlist_digest": wl.content_digest,
            "subjects": len(wl.subjects),
            "planned_start": dep.planned_start.isoformat(),
            "planned_end": dep.planned_end.isoformat(),
            "cameras": [c.name for c in dep.cameras],
            "authority": dep.authority,
            "authority_reference": dep.authority_reference,
            **backing,
        },
    )
    return dep


def _watchlist(ctx: Ctx, dep: Deployment) -> WatchlistVersion:
    assert dep.watchlist_id is not None
    return watchlists.get(ctx, dep.watchlist_id)


def start(
    ctx: Ctx,
    dep: Deployment,
    request: StartRequest | None = None,
    *,
    authorisation: AuthorisationConfig | None = None,
    may_start_urgently: bool = False,
) -> DeploymentRun:
    """Begin a period of live use (the cameras start once this commits).

    Refused, with every reason, while the legal record misses what the
    jurisdiction requires (:mod:`openlfr.deployments.legal`).
    """
    _require(dep, S.AUTHORISED, doing="start")
    if ctx.now < dep.planned_start:
        raise Conflict(
            f"the deployment is authorised from {dep.planned_start.isoformat()}", code="too_early"
        )
    if ctx.now >= dep.planned_end:
        raise Conflict(
            f"the authorised period ended at {dep.planned_end.isoformat()}", code="too_late"
        )
    wl = _watchlist(ctx, dep)
    assert wl.content_digest is not None
    backing = evidence.require(ctx, dep, wl, doing="start")
    lawful = legal.prepare_start(
        ctx,
        dep,
        request or StartRequest(),
        authorisation or AuthorisationConfig(),
        may_start_urgently=may_start_urgently,
    )
    run = DeploymentRun(
        started_at=ctx.now,
        started_by=ctx.actor.label,
        watchlist_id=wl.id,
        watchlist_digest=wl.content_digest,
        threshold=dep.threshold,
    )
    dep.runs.append(run)
    dep.state = S.LIVE
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_STARTED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "run_id": run.id,
            "watchlist_id": wl.id,
            "watchlist_name": wl.name,
            "watchlist_version": wl.version,
            "watchlist_digest": wl.content_digest,
            "threshold": dep.threshold,
            "cameras": [c.name for c in dep.cameras],
            **backing,
            **lawful,
        },
    )
    return run


def current_run(dep: Deployment) -> DeploymentRun | None:
    return next((r for r in reversed(dep.runs) if r.ended_at is None), None)


def stop(ctx: Ctx, dep: Deployment, *, reason: str) -> DeploymentRun:
    """End the current period of live use; the deployment can start again while authorised."""
    _require(dep, S.LIVE, doing="stop")
    run = current_run(dep)
    assert run is not None
    run.ended_at = ctx.now
    run.ended_by = ctx.actor.label
    run.end_reason = reason
    dep.state = S.AUTHORISED
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_STOPPED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={"run_id": run.id, "reason": reason},
    )
    return run


def record_run_counts(
    ctx: Ctx,
    dep: Deployment,
    run_id: int,
    *,
    frames: int,
    face_detections: int,
    faces_seen: int,
    cameras: dict[str, dict[str, int]],
) -> DeploymentRun:
    """Keep what the cameras counted during one period of use (counts only, audited).

    Called once the cameras of that period have stopped; the faces seen (confirmed
    tracks) are the estimate the deployment record publishes.
    """
    run = next((r for r in dep.runs if r.id == run_id), None)
    if run is None:
        raise NotFound(f"deployment {dep.id} has no period of use {run_id}")
    run.frames_processed = frames
    run.face_detections = face_detections
    run.faces_seen = faces_seen
    ctx.db.flush()
    audit.record(
        ctx,
        Action.RUN_COUNTS_RECORDED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "run_id": run.id,
            "frames": frames,
            "face_detections": face_detections,
            "faces_seen": faces_seen,
            "cameras": {name: dict(counts) for name, counts in cameras.items()},
        },
    )
    # The close stopped these cameras: the record waited for their counts.
    publication.publish(ctx, dep)
    return run


def change_threshold(
    ctx: Ctx, dep: Deployment, *, threshold: float, reason: str, policy: GovernanceConfig
) -> Deployment:
    """Move the threshold; once authorised, only with a written reason (audited)."""
    _require(dep, S.DRAFT, S.AUTHORISED, S.LIVE, doing="change the threshold of")
    if dep.state != S.DRAFT and len(reason.strip()) < policy.min_reason_chars:
        raise InvalidInput(
            f"a reason of at least {policy.min_reason_chars} characters is required to change "
            f"the threshold of a{'n' if dep.state == S.AUTHORISED else ''} {dep.state} deployment",
            field="reason",
        )
    old = dep.threshold
    dep.threshold = threshold
    backing: dict[str, JSONValue] = {}
    if dep.state != S.DRAFT:
        backing = evidence.require(ctx, dep, _watchlist(ctx, dep), doing="change the threshold of")
    ctx.db.flush()
    audit.record(
        ctx,
        Action.THRESHOLD_CHANGED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "from": old,
            "to": threshold,
            "reason": reason,
            "state": dep.state,
            **backing,
        },
    )
    return dep


def override_evidence(
    ctx: Ctx, dep: Deployment, *, reason: str, threshold: float | None, policy: GovernanceConfig
) -> Deployment:
    """Let the deployment run on a threshold no stored calibration backs (audited)."""
    wl = _watchlist(ctx, dep) if dep.watchlist_id is not None else None
    return evidence.override(ctx, dep, wl, reason=reason, threshold=threshold, policy=policy)


def pending_alerts(ctx: Ctx, deployment_id: int) -> int:
    """Alerts of the deployment still waiting for an operator's decision."""
    return int(
        ctx.db.execute(
            select(func.count())
            .select_from(AlertRecord)
            .where(AlertRecord.deployment_id == deployment_id, ~AlertRecord.adjudication.has())
        ).scalar_one()
    )


def close(
    ctx: Ctx,
    dep: Deployment,
    *,
    reason: str,
    retention: RetentionConfig,
    pending_reason: str | None = None,
    policy: GovernanceConfig | None = None,
) -> Deployment:
    """End the deployment for good and publish its record (final from then on); its watchlist
    is purged within the configured grace.

    Alerts still waiting for a decision would be published as "not adjudicated"
    and could then only be decided as amendments, so closing with any pending
    needs a written reason (``pending_reason``).
    """
    _require(dep, S.DRAFT, S.AUTHORISED, S.LIVE, doing="close")
    waiting = pending_alerts(ctx, dep.id)
    least = (policy or GovernanceConfig()).min_reason_chars
    if waiting and len((pending_reason or "").strip()) < least:
        raise Conflict(
            f"{waiting} alert{'s' if waiting != 1 else ''} of deployment {dep.id} "
            f"{'are' if waiting != 1 else 'is'} still waiting for a decision: decide "
            f"{'them' if waiting != 1 else 'it'} first, or give a reason of at least {least} "
            "characters (pending_reason) to close and publish the record with "
            f"{'them' if waiting != 1 else 'it'} not adjudicated",
            code="alerts_pending",
        )
    if dep.state == S.LIVE:
        stop(ctx, dep, reason=f"closed: {reason}" if reason else "closed")
    dep.state = S.CLOSED
    dep.closed_at = ctx.now
    dep.closed_by = ctx.actor.label
    dep.purge_due_at = ctx.now + timedelta(hours=retention.closed_deployment_hours)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_CLOSED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={
            "reason": reason,
            "purge_due_at": dep.purge_due_at.isoformat(),
            "runs": len(dep.runs),
            "alerts_total": dep.alerts_total,
            "alerts_pending": waiting,
            "pending_reason": pending_reason if waiting else None,
        },
    )
    publication.publish(ctx, dep)  # waits for the cameras' counts if the close stopped them
    return dep


def purge_closed(ctx: Ctx, dep: Deployment) -> int:
    """Purge a closed deployment's watchlist, leaving the record and its counts."""
    _require(dep, S.CLOSED, doing="purge")
    # Counts that never came (the process died): publish with what there is.
    publication.publish(ctx, dep, force=True)
    images = 0
    if dep.watchlist_id is not None:
        images = lifecycle.purge(
            ctx, _watchlist(ctx, dep), deployment_id=dep.id, reason="deployment closed"
        )
    dep.purged_at = ctx.now
    ctx.db.flush()
    audit.record(
        ctx,
        Action.DEPLOYMENT_PURGED,
        entity_type=ENTITY,
        entity_id=dep.id,
        deployment_id=dep.id,
        details={"images_purged": images, "alerts_total": dep.alerts_total},
    )
    return images
