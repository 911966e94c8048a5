"""Episodes: each stored alert joins its subject's open episode or opens one; listing, reading.

The queue shows episodes, not alerts. Ordering is stable: by when each episode
opened (oldest waiting first), or by the subject's priority and then that; a new
sighting changes an episode's looks, cameras and best score but never its place.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, func, select

from openlfr.alert_records.models import AlertRecord
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.episodes.models import Episode
from openlfr.storage.context import Ctx
from openlfr.storage.errors import NotFound
from openlfr.watchlist_records.models import Subject

ENTITY = "episode"


class QueueOrder(StrEnum):
    """``waiting``: oldest-waiting first. ``priority``: the subject's priority, then waiting."""

    WAITING = "waiting"
    PRIORITY = "priority"


def attach(ctx: Ctx, alert: AlertRecord, subject: Subject, *, window: timedelta) -> Episode:
    """Put a just-stored alert into its subject's undecided episode, or open a new one.

    It joins when it was captured no more than ``window`` after (or before) the
    episode's sightings; the caller holds the deployment's row lock, so two alerts
    of one subject cannot open two episodes at once.
    """
    open_one = ctx.db.execute(
        select(Episode)
        .where(
            Episode.deployment_id == alert.deployment_id,
            Episode.subject_id == subject.id,
            Episode.decided_at.is_(None),
        )
        .order_by(Episode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    seen = alert.captured_at
    if (
        open_one is not None
        and window > timedelta(0)
        and open_one.first_seen_at - window <= seen <= open_one.last_seen_at + window
    ):
        ep = open_one
        ep.first_seen_at = min(ep.first_seen_at, seen)
        ep.last_seen_at = max(ep.last_seen_at, seen)
        ep.looks += 1
        if alert.score > ep.best_score:
            ep.best_score, ep.best_alert_id = alert.score, alert.id
        if alert.camera not in ep.camera_list:
            ep.cameras = ",".join([*ep.camera_list, alert.camera])
    else:
        ep = Episode(
            deployment_id=alert.deployment_id,
            subject_id=subject.id,
            subject_reference=subject.reference,
            category=subject.category,
            priority=subject.priority,
            opened_at=ctx.now,
            first_seen_at=seen,
            last_seen_at=seen,
            looks=1,
            best_score=alert.score,
            best_alert_id=alert.id,
            cameras=alert.camera,
        )
        ctx.db.add(ep)
    ctx.db.flush()
    alert.episode_id = ep.id
    alert.episode = ep
    return ep


def get(ctx: Ctx, episode_id: int, *, lock: bool = False) -> Episode:
    query = select(Episode).where(Episode.id == episode_id)
    if lock:
        query = query.with_for_update()
    ep = ctx.db.execute(query).scalar_one_or_none()
    if ep is None:
        raise NotFound(f"no episode with id {episode_id} (it may have been purged)")
    return ep


def looks(ctx: Ctx, ep: Episode) -> list[AlertRecord]:
    """The episode's alerts, in the order they were seen."""
    return list(
        ctx.db.execute(
            select(AlertRecord)
            .where(AlertRecord.episode_id == ep.id)
            .order_by(AlertRecord.captured_at, AlertRecord.id)
        ).scalars()
    )


def list_episodes(
    ctx: Ctx,
    *,
    offset: int,
    limit: int,
    deployment_id: int | None = None,
    pending_only: bool = False,
    order: QueueOrder = QueueOrder.WAITING,
) -> tuple[list[Episode], int]:
    """A page of episodes in queue order (decided ones: most recently decided first); audited."""
    # An episode whose alerts were all purged is nothing to show or decide.
    filters: list[ColumnElement[bool]] = [
        select(AlertRecord.id).where(AlertRecord.episode_id == Episode.id).exists()
    ]
    if deployment_id is not None:
        filters.append(Episode.deployment_id == deployment_id)
    if pending_only:
        filters.append(Episode.decided_at.is_(None))
    query = select(Episode).where(*filters)
    if not pending_only:
        query = query.order_by(Episode.decided_at.desc().nulls_first(), Episode.id.desc())
    elif order == QueueOrder.PRIORITY:
        query = query.order_by(Episode.priority.desc(), Episode.opened_at, Episode.id)
    else:
        query = query.order_by(Episode.opened_at, Episode.id)
    rows = list(ctx.db.execute(query.offset(offset).limit(limit)).scalars())
    total = ctx.db.execute(select(func.count()).select_from(Episode).where(*filters)).scalar_one()
    if rows:
        audit.record(
            ctx,
            Action.EPISODES_LISTED,
            entity_type=ENTITY,
            deployment_id=deployment_id,
            details={"episode_ids": [e.id for e in rows]},
        )
    return rows, int(total)


def settle_if_done(ctx: Ctx, episode_id: int | None, decision: str) -> None:
    """After one alert was decided on its own: the episode is decided once all its looks are."""
    if episode_id is None:
        return
    ep = ctx.db.get(Episode, episode_id)
    if ep is None or ep.decided_at is not None:
        return
    waiting = ctx.db.execute(
        select(func.count())
        .select_from(AlertRecord)
        .where(AlertRecord.episode_id == ep.id, ~AlertRecord.adjudication.has())
    ).scalar_one()
    if not waiting:
        ep.decided_at, ep.decision = ctx.now, decision


def drop_empty(ctx: Ctx) -> int:
    """Delete episodes whose every alert was purged (retention keeps nothing else of them)."""
    has_alert = select(AlertRecord.id).where(AlertRecord.episode_id == Episode.id).exists()
    result = ctx.db.execute(delete(Episode).where(~has_alert))
    return int(getattr(result, "rowcount", 0) or 0)
