"""Alerts: stored durably (with their deliveries) before anyone is told; read, adjudicated, held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from openlfr.alert_records.models import (
    Adjudication,
    AdjudicationCreate,
    AlertRecord,
    Decision,
)
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import GovernanceConfig
from openlfr.deployments import service as deployments
from openlfr.deployments.models import Deployment, DeploymentRun, DeploymentState
from openlfr.episodes import service as episodes
from openlfr.notify import service as notify
from openlfr.notify.feed import ALERTS_CHANNEL, signal
from openlfr.reports import publication
from openlfr.storage.context import Ctx, drop_blob, put_blob
from openlfr.storage.errors import Conflict, InvalidInput, NotFound
from openlfr.watchlist_records.enrolment import media_type, sha256_hex
from openlfr.watchlist_records.models import Subject

CROP_BLOB = "alert-crop"
SCENE_BLOB = "alert-scene"
DEFAULT_EPISODE_WINDOW = timedelta(seconds=GovernanceConfig().episode_window_s)
LATE_ALERT_GRACE = timedelta(seconds=60)
ENTITY = "alert"


@dataclass(frozen=True, slots=True)
class AlertInput:
    """A match decided by the live pipeline, as the control plane stores it.

    Attributes:
        deployment_id: the live deployment whose gallery matched.
        camera: the camera's name within the deployment.
        subject_id: the gallery's subject id (the Subject row id as text).
        score: cosine similarity of the probe with the subject.
        track_id: the pipeline's track identifier.
        captured_at: capture time of the frame the crop came from.
        crop: the probe face crop, encoded (JPEG or PNG).
        uid: the pipeline's alert id; an alert whose uid is stored already is not stored
            again (workers retry deliveries).
        scene: a small thumbnail of the frame in which everything but this face is
            obscured (encoded), or None.
    """

    deployment_id: int
    camera: str
    subject_id: str
    score: float
    track_id: str
    captured_at: datetime
    crop: bytes
    uid: str | None = None
    scene: bytes | None = None


def find_by_uid(ctx: Ctx, uid: str) -> AlertRecord | None:
    """The alert stored under a pipeline's alert id, if any."""
    return ctx.db.execute(select(AlertRecord).where(AlertRecord.uid == uid)).scalar_one_or_none()


def ingest(
    ctx: Ctx,
    item: AlertInput,
    *,
    mqtt_enabled: bool,
    episode_window: timedelta = DEFAULT_EPISODE_WINDOW,
) -> AlertRecord:
    """Store an alert, its sealed crop (and scene thumbnail), its episode, its audit event and
    its pending deliveries, atomically."""
    dep = deployments.get(ctx, item.deployment_id, lock=True)
    run = _run_for(dep, item, now=ctx.now)
    if not any(c.name == item.camera for c in dep.cameras):
        raise InvalidInput(f"deployment {dep.id} has no camera {item.camera!r}", field="camera")
    try:
        subject = ctx.db.get(Subject, int(item.subject_id))
    except ValueError:
        subject = None
    if subject is None or subject.watchlist_id != dep.watchlist_id:
        raise InvalidInput(
            f"subject {item.subject_id!r} is not on deployment {dep.id}'s watchlist",
            field="subject_id",
        )
    crop_sha = sha256_hex(item.crop)
    alert = AlertRecord(
        uid=item.uid,
        deployment_id=dep.id,
        run_id=run.id,
        camera=item.camera,
        watchlist_id=subject.watchlist_id,
        subject_id=subject.id,
        subject_reference=subject.reference,
        score=float(item.score),
        threshold=dep.threshold,
        track_id=item.track_id[:64],
        captured_at=item.captured_at,
        created_at=ctx.now,
        crop_blob_id=put_blob(ctx, item.crop, CROP_BLOB),
        crop_media_type=media_type(item.crop),
        crop_sha256=crop_sha,
    )
    if item.scene:
        alert.scene_blob_id = put_blob(ctx, item.scene, SCENE_BLOB)
        alert.scene_media_type = media_type(item.scene)
        alert.scene_sha256 = sha256_hex(item.scene)
    ctx.db.add(alert)
    dep.alerts_total += 1
    ctx.db.flush()
    episode = episodes.attach(ctx, alert, subject, window=episode_window)
    # What EU AI Act Art. 12(3)(c) asks: the input that led to the match.
    audit.record(
        ctx,
        Action.ALERT_CREATED,
        entity_type=ENTITY,
        entity_id=alert.id,
        deployment_id=dep.id,
        details={
            "run_id": alert.run_id,
            "camera": alert.camera,
            "captured_at": alert.captured_at.isoformat(),
            "track_id": alert.track_id,
            "watchlist_id": alert.watchlist_id,
            "subject_id": subject.id,
            "subject_reference": subject.reference,
            "category": subject.category,
            "score": round(alert.score, 6),
            "threshold": alert.threshold,
            "probe_sha256": crop_sha,
            "scene_sha256": alert.scene_sha256,
            "episode_id": episode.id,
        },
    )
    notify.enqueue(ctx, alert, mqtt_enabled=mqtt_enabled)
    # Every other hub process on this database hears of it once it commits.
    signal(ctx.db, ALERTS_CHANNEL, alert.id)
    return alert


def _run_for(dep: Deployment, item: AlertInput, *, now: datetime) -> DeploymentRun:
    """The period of live use the alert belongs to.

    Cameras stop a moment after the stop is recorded, so an alert captured
    before a run ended is accepted for a short grace afterwards; anything else
    from a deployment that is not live is refused.
    """
    if dep.state == DeploymentState.LIVE:
        run = deployments.current_run(dep)
        assert run is not None
        return run
    if dep.revoked_reason is not None:
        # The law stopped it and its data was purged: nothing late may come back.
        raise Conflict(f"deployment {dep.id} was revoked: {dep.revoked_reason}", code="revoked")
    last = dep.runs[-1] if dep.runs else None
    if (
        last is not None
        and last.ended_at is not None
        and item.captured_at <= last.ended_at
        and now - last.ended_at <= LATE_ALERT_GRACE
    ):
        return last
    raise Conflict(f"deployment {dep.id} is {dep.state}, not live", code="not_live")


def get(ctx: Ctx, alert_id: int, *, audited: bool = True) -> AlertRecord:
    alert = ctx.db.get(AlertRecord, alert_id)
    if alert is None:
        raise NotFound(f"no alert with id {alert_id} (it may have been purged)")
    if audited:
        audit.record(
            ctx,
            Action.ALERT_READ,
            entity_type=ENTITY,
            entity_id=alert.id,
            deployment_id=alert.deployment_id,
        )
    return alert


def list_alerts(
    ctx: Ctx,
    *,
    offset: int,
    limit: int,
    deployment_id: int | None = None,
    pending_only: bool = False,
    after_id: int | None = None,
) -> tuple[list[AlertRecord], int]:
    """A page of alerts, newest first (or oldest first after ``after_id``); audited."""
    query = select(AlertRecord).options(selectinload(AlertRecord.adjudication))
    count = select(func.count()).select_from(AlertRecord)
    filters = []
    if deployment_id is not None:
        filters.append(AlertRecord.deployment_id == deployment_id)
    if pending_only:
        filters.append(~AlertRecord.adjudication.has())
    if after_id is not None:
        filters.append(AlertRecord.id > after_id)
    if filters:
        query = query.where(*filters)
        count = count.where(*filters)
    order = AlertRecord.id.asc() if after_id is not None else AlertRecord.id.desc()
    rows = list(ctx.db.execute(query.order_by(order).offset(offset).limit(limit)).scalars().all())
    if rows:
        audit.record(
            ctx,
            Action.ALERTS_LISTED,
            entity_type=ENTITY,
            deployment_id=deployment_id,
            details={"alert_ids": [a.id for a in rows]},
        )
    return rows, int(ctx.db.execute(count).scalar_one())


def crop(ctx: Ctx, alert_id: int) -> tuple[AlertRecord, bytes]:
    """The probe crop's bytes (audited)."""
    alert = get(ctx, alert_id, audited=False)
    data = ctx.blobs.get(alert.crop_blob_id, CROP_BLOB)
    audit.record(
        ctx,
        Action.ALERT_CROP_VIEWED,
        entity_type=ENTITY,
        entity_id=alert.id,
        deployment_id=alert.deployment_id,
        details={"probe_sha256": alert.crop_sha256},
    )
    return alert, data


def adjudicate(
    ctx: Ctx, alert_id: int, data: AdjudicationCreate, *, policy: GovernanceConfig | None = None
) -> AlertRecord:
    """Record the operator's decision; once made it stands (the log shows who and when).

    After the deployment's record is published, a decision is accepted only with
    an ``amendment_reason``: it is then listed on the record as a dated,
    attributed amendment and the published figures do not move.
    """
    alert = get(ctx, alert_id, audited=False)
    if alert.adjudication is not None:
        raise Conflict(f"alert {alert.id} was already adjudicated", code="already_adjudicated")
    dep = ctx.db.execute(
        select(Deployment).where(Deployment.id == alert.deployment_id).with_for_update()
    ).scalar_one()
    confirmed = alert.episode is not None and alert.episode.verification == "confirmed"
    if data.decision == Decision.ENGAGED and dep.two_person and not confirmed:
        raise Conflict(
            f"deployment {dep.id} requires two-person verification: propose the engagement on "
            f"the alert's episode ({alert.episode_id}) and have a second person confirm it",
            code="confirmation_required",
        )
    row = publication.published(ctx.db, dep.id)
    least = (policy or GovernanceConfig()).min_reason_chars
    if row is not None and len((data.amendment_reason or "").strip()) < least:
        raise Conflict(
            f"deployment {dep.id}'s record was published on {row.published_at.isoformat()} and "
            "no longer changes: a late decision is recorded only as an amendment, with a reason "
            f"of at least {least} characters (amendment_reason)",
            code="record_published",
        )
    alert.adjudication = Adjudication(
        decision=data.decision,
        outcome=data.outcome,
        notes=data.notes,
        decided_at=ctx.now,
        decided_by=ctx.actor.label,
        decided_by_id=ctx.actor.user_id,
        decided_by_person=ctx.actor.person,
    )
    if data.decision == Decision.ENGAGED:
        dep.engaged += 1
    elif data.decision == Decision.NOT_ENGAGED:
        dep.not_engaged += 1
    else:
        dep.false_alerts += 1
    ctx.db.flush()
    # Art. 12(3)(d): who verified the result.
    audit.record(
        ctx,
        Action.ALERT_ADJUDICATED,
        entity_type=ENTITY,
        entity_id=alert.id,
        deployment_id=alert.deployment_id,
        details={
            "decision": str(data.decision),
            "outcome": None if data.outcome is None else str(data.outcome),
            "notes": data.notes,
            "person": ctx.actor.person,
            "episode_id": alert.episode_id,
            **(
                {"amends_published_record": True, "amendment_reason": data.amendment_reason}
                if row is not None
                else {}
            ),
        },
    )
    episodes.settle_if_done(ctx, alert.episode_id, str(data.decision))
    return alert


def scene(ctx: Ctx, alert_id: int) -> tuple[AlertRecord, bytes]:
    """The alert's scene thumbnail (all but its face obscured); audited."""
    alert = get(ctx, alert_id, audited=False)
    if alert.scene_blob_id is None or alert.scene_media_type is None:
        raise NotFound(f"alert {alert_id} has no scene thumbnail")
    data = ctx.blobs.get(alert.scene_blob_id, SCENE_BLOB)
    audit.record(
        ctx,
        Action.ALERT_SCENE_VIEWED,
        entity_type=ENTITY,
        entity_id=alert.id,
        deployment_id=alert.deployment_id,
        details={"scene_sha256": alert.scene_sha256},
    )
    return alert, data


def set_hold(
    ctx: Ctx, alert_id: int, *, hold: bool, reason: str, policy: GovernanceConfig
) -> AlertRecord:
    """Place an alert on legal hold (kept past retention) or release it."""
    if len(reason.strip()) < policy.min_reason_chars:
        raise InvalidInput(
            f"a reason of at least {policy.min_reason_chars} characters is required",
            field="reason",
        )
    alert = get(ctx, alert_id, audited=False)
    alert.legal_hold = hold
    alert.hold_reason = reason if hold else None
    alert.hold_by = ctx.actor.label if hold else None
    alert.hold_at = ctx.now if hold else None
    ctx.db.flush()
    audit.record(
        ctx,
        Action.ALERT_HOLD_SET if hold else Action.ALERT_HOLD_RELEASED,
        entity_type=ENTITY,
        entity_id=alert.id,
        deployment_id=alert.deployment_id,
        details={"reason": reason},
    )
    return alert


def purge_expired(ctx: Ctx, *, cutoff: datetime) -> list[int]:
    """Delete alerts raised before ``cutoff`` that are not on hold, with their crops."""
    expired = (
        ctx.db.execute(
            select(AlertRecord)
            .where(AlertRecord.created_at < cutoff, AlertRecord.legal_hold.is_(False))
            .order_by(AlertRecord.id)
        )
        .scalars()
        .all()
    )
    by_deployment: dict[int, list[int]] = {}
    for alert in expired:
        drop_blob(ctx, alert.crop_blob_id)
        if alert.scene_blob_id is not None:
            drop_blob(ctx, alert.scene_blob_id)
        by_deployment.setdefault(alert.deployment_id, []).append(alert.id)
        ctx.db.delete(alert)
    for dep_id, ids in by_deployment.items():
        dep = ctx.db.get(Deployment, dep_id)
        if dep is not None:
            dep.alerts_purged += len(ids)
        audit.record(
            ctx,
            Action.ALERTS_PURGED,
            entity_type=ENTITY,
            deployment_id=dep_id,
            details={"alert_ids": ids, "cutoff": cutoff.isoformat()},
        )
    ctx.db.flush()
    if expired:
        episodes.drop_empty(ctx)
    return [a.id for a in expired]
