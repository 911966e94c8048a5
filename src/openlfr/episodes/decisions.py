"""Deciding an episode, with two-person verification of engagements where the deployment asks.

Without verification a decision is final at once and decides every undecided look.
With it (``Deployment.two_person``, on by default; EU AI Act Art. 14(5)):

1. the first "engage" is a *proposal*: recorded, audited, not actionable;
2. a second, different person confirms it (another "engage", the engagement is now
   actionable) or disagrees (not engaging, or no match: that decision is final and
   the episode is *disputed*); the proposer cannot be the second person;
3. the outcome of a confirmed engagement (arrested, advised, ...) is recorded by
   either of them, and that decides the looks.

"No match" and "match – not engaging" need no second person: they lead to no action.
"""

from __future__ import annotations

from openlfr.alert_records import service as alerts
from openlfr.alert_records.models import AdjudicationCreate, Decision
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.chain import JSONValue
from openlfr.config.server import GovernanceConfig
from openlfr.deployments.models import Deployment
from openlfr.episodes import service as episodes
from openlfr.episodes.models import Episode, EpisodeDecision, Verification
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, InvalidInput

ENTITY = episodes.ENTITY


def _same_person(ctx: Ctx, user_id: int | None, label: str | None) -> bool:
    if ctx.actor.user_id is not None and user_id is not None:
        return ctx.actor.user_id == user_id
    return ctx.actor.label == label


def _event(ctx: Ctx, ep: Episode, action: Action, **details: JSONValue) -> None:
    audit.record(
        ctx,
        action,
        entity_type=ENTITY,
        entity_id=ep.id,
        deployment_id=ep.deployment_id,
        details={"subject_reference": ep.subject_reference, "person": ctx.actor.person, **details},
    )


def decide(
    ctx: Ctx, episode_id: int, data: EpisodeDecision, *, policy: GovernanceConfig
) -> Episode:
    """Record one person's decision on an episode (see the module docstring for the steps)."""
    ep = episodes.get(ctx, episode_id, lock=True)
    if ep.decided_at is not None:
        raise Conflict(f"episode {ep.id} was already decided", code="already_adjudicated")
    dep = ctx.db.get(Deployment, ep.deployment_id)
    assert dep is not None
    engage = data.decision == Decision.ENGAGED
    if not engage and data.outcome is not None:
        raise InvalidInput("only an engagement has an outcome", field="outcome")
    if ep.verification == Verification.PROPOSED:
        if _same_person(ctx, ep.proposed_by_id, ep.proposed_by):
            raise Conflict(
                f"you proposed engaging on episode {ep.id}: a second, different person must "
                "confirm it or disagree",
                code="second_person_required",
            )
        _check(ctx, ep, data.decision)
        if not engage:
            return _final(ctx, ep, data, policy)
        if data.outcome is None:
            return ep  # confirmed: actionable, the outcome comes later
        return _final(ctx, ep, data, policy)
    if ep.verification == Verification.CONFIRMED:
        if not engage:
            raise Conflict(
                f"episode {ep.id}'s engagement was confirmed: record its outcome (use "
                "'not the person' if it was not them)",
                code="engagement_confirmed",
            )
        if data.outcome is None:
            raise InvalidInput("an engagement needs an outcome", field="outcome")
        return _final(ctx, ep, data, policy)
    if engage and dep.two_person:
        if data.outcome is not None:
            raise InvalidInput(
                "an engagement is proposed first, without an outcome: a second person must "
                "confirm it before anyone acts",
                field="outcome",
            )
        _propose(ctx, ep)
        return ep
    if engage and data.outcome is None:
        raise InvalidInput("an engagement needs an outcome", field="outcome")
    return _final(ctx, ep, data, policy)


def _propose(ctx: Ctx, ep: Episode) -> None:
    ep.verification = Verification.PROPOSED
    ep.proposed_at = ctx.now
    ep.proposed_by = ctx.actor.label
    ep.proposed_by_id = ctx.actor.user_id
    ep.proposed_by_person = ctx.actor.person
    ctx.db.flush()
    _event(ctx, ep, Action.ENGAGEMENT_PROPOSED, looks=ep.looks)


def _check(ctx: Ctx, ep: Episode, decision: Decision) -> None:
    agreed = decision == Decision.ENGAGED
    ep.verification = Verification.CONFIRMED if agreed else Verification.DISPUTED
    ep.checked_at = ctx.now
    ep.checked_by = ctx.actor.label
    ep.checked_by_id = ctx.actor.user_id
    ep.checked_by_person = ctx.actor.person
    ep.checked_decision = str(decision)
    ctx.db.flush()
    _event(
        ctx,
        ep,
        Action.ENGAGEMENT_CONFIRMED if agreed else Action.ENGAGEMENT_DISPUTED,
        proposed_by=ep.proposed_by,
        proposed_by_person=ep.proposed_by_person,
        proposed_at=None if ep.proposed_at is None else ep.proposed_at.isoformat(),
        decision=str(decision),
    )


def _final(ctx: Ctx, ep: Episode, data: EpisodeDecision, policy: GovernanceConfig) -> Episode:
    """Decide every look still undecided, then the episode itself."""
    decided = []
    for alert in episodes.looks(ctx, ep):
        if alert.adjudication is not None:
            continue
        alerts.adjudicate(
            ctx,
            alert.id,
            AdjudicationCreate(
                decision=data.decision,
                outcome=data.outcome,
                notes=data.notes,
                amendment_reason=data.amendment_reason,
            ),
            policy=policy,
        )
        decided.append(alert.id)
    ep.decided_at, ep.decision = ctx.now, str(data.decision)
    ctx.db.flush()
    _event(
        ctx,
        ep,
        Action.EPISODE_DECIDED,
        decision=str(data.decision),
        outcome=None if data.outcome is None else str(data.outcome),
        alert_ids=decided,
        verification=ep.verification,
    )
    return ep
