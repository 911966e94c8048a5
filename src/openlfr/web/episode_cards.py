"""What one queue card shows: an episode's looks, who it may be, and where verification stands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select

from openlfr.alert_records.models import AlertRecord
from openlfr.deployments import service as deployments
from openlfr.deployments.models import Deployment
from openlfr.episodes import service as episodes
from openlfr.episodes.models import Episode, Verification
from openlfr.storage.context import Ctx
from openlfr.watchlist_records.models import ReferenceImage, Subject
from openlfr.web.live import ClaimRead

REFERENCE_PHOTOS = 3
LOOKS_SHOWN = 12


class Stage(StrEnum):
    """What the viewer may do with the card now."""

    OPEN = "open"  # nobody has decided anything
    PROPOSED_BY_ME = "proposed_by_me"  # waiting for someone else to confirm
    TO_CONFIRM = "to_confirm"  # someone else proposed engaging: confirm or disagree
    CONFIRMED = "confirmed"  # actionable: record the outcome


@dataclass(frozen=True, slots=True)
class EpisodeCard:
    """One queue item: the episode, its looks (best first), the subject and the deployment."""

    episode: Episode
    anchor: AlertRecord  # the first look: claims and queue events are keyed on it
    best: AlertRecord
    looks: list[AlertRecord]
    subject: Subject | None
    photos: list[ReferenceImage]
    deployment: Deployment
    claim: ClaimRead | None
    stage: Stage

    @property
    def others(self) -> list[AlertRecord]:
        """The other looks, newest first (the best one is shown large)."""
        rest = [a for a in self.looks if a.id != self.best.id]
        return list(reversed(rest))[:LOOKS_SHOWN]


def stage_for(ep: Episode, user_id: int | None) -> Stage:
    if ep.verification == Verification.PROPOSED:
        return Stage.PROPOSED_BY_ME if ep.proposed_by_id == user_id else Stage.TO_CONFIRM
    if ep.verification == Verification.CONFIRMED:
        return Stage.CONFIRMED
    return Stage.OPEN


def card(ctx: Ctx, ep: Episode, claims: dict[int, ClaimRead], user_id: int | None) -> EpisodeCard:
    looks = episodes.looks(ctx, ep)
    anchor = min(looks, key=lambda a: a.id)
    best = next((a for a in looks if a.id == ep.best_alert_id), anchor)
    subject = None if ep.subject_id is None else ctx.db.get(Subject, ep.subject_id)
    return EpisodeCard(
        episode=ep,
        anchor=anchor,
        best=best,
        looks=looks,
        subject=subject,
        photos=[] if subject is None else list(subject.images[:REFERENCE_PHOTOS]),
        deployment=deployments.get(ctx, ep.deployment_id),
        claim=claims.get(anchor.id),
        stage=stage_for(ep, user_id),
    )


def recently_decided(ctx: Ctx, deployment_id: int | None, limit: int) -> list[Episode]:
    query = select(Episode).where(Episode.decided_at.is_not(None))
    if deployment_id is not None:
        query = query.where(Episode.deployment_id == deployment_id)
    return list(ctx.db.execute(query.order_by(Episode.decided_at.desc()).limit(limit)).scalars())


@dataclass(frozen=True, slots=True)
class DecidedRow:
    episode: Episode
    by: str
    outcome: str | None
    anchor_id: int | None


def decided_row(ctx: Ctx, ep: Episode) -> DecidedRow:
    """A decided episode with who decided it and the engagement's outcome."""
    last = _last_decided(ctx, ep)
    outcome = None if last is None or last.adjudication is None else last.adjudication.outcome
    anchor = ctx.db.execute(
        select(func.min(AlertRecord.id)).where(AlertRecord.episode_id == ep.id)
    ).scalar_one()
    return DecidedRow(ep, decided_by(ctx, ep), outcome, anchor)


def _last_decided(ctx: Ctx, ep: Episode) -> AlertRecord | None:
    return ctx.db.execute(
        select(AlertRecord)
        .where(AlertRecord.episode_id == ep.id, AlertRecord.adjudication.has())
        .order_by(AlertRecord.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def decided_by(ctx: Ctx, ep: Episode) -> str:
    """Who decided: the person(s), both where an engagement was verified."""
    first = _last_decided(ctx, ep)
    final = None
    if first is not None and first.adjudication is not None:
        final = first.adjudication.decided_by_person or first.adjudication.decided_by
    names = [ep.proposed_by_person or ep.proposed_by, ep.checked_by_person or ep.checked_by]
    people = [n for n in names if n]
    if final and final not in people:
        people.append(final)
    return " and ".join(people) if people else "—"
