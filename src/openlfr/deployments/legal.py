"""The legal record a deployment needs before it goes live, checked against the jurisdiction.

Which items are required is the ``authorisation`` setting (a UK and an EU
profile). :func:`check` lists every missing one in words, so a blocked go-live
says all its reasons at once; :func:`prepare_start` records the signage
confirmation and, when only the authority's reference is missing and an officer
or commander asks for it, opens an urgent start's clock (``urgent_hours``; the
scheduler enforces it, see :mod:`openlfr.deployments.legal_clock`).
"""

from __future__ import annotations

from datetime import timedelta

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.chain import JSONValue
from openlfr.config.authorisation import AuthorisationConfig, Requirement
from openlfr.deployments.models import Deployment, GoLiveCheck, StartRequest
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, Forbidden, InvalidInput

ENTITY = "deployment"
R = Requirement

_WORDS: dict[Requirement, str] = {
    R.LEGAL_BASIS_CATEGORY: "no legal basis category is recorded",
    R.AUTHORITY: "no authorising authority is named",
    R.AUTHORITY_REFERENCE: "the authorising authority's reference is not recorded",
    R.IMPACT_ASSESSMENT: "no fundamental-rights impact assessment (Art. 27) is referenced",
    R.REGISTRATION: "no registration (Art. 49) is referenced",
    R.SIGNAGE: "signage at the site is not confirmed",
}


def _present(dep: Deployment, item: Requirement) -> bool:
    if item is R.SIGNAGE:
        return dep.signage_confirmed_at is not None
    value = getattr(dep, str(item))
    return bool(value and str(value).strip())


def check_category(value: str | None, config: AuthorisationConfig) -> None:
    """Refuse a legal basis category outside the jurisdiction's list."""
    if value is not None and value not in config.categories:
        raise InvalidInput(
            f"legal basis category {value!r} is not one of: {', '.join(config.categories)}",
            field="legal_basis_category",
            code="unknown_category",
        )


def check(dep: Deployment, config: AuthorisationConfig) -> GoLiveCheck:
    """Whether the legal record lets ``dep`` go live, with every reason it does not."""
    missing = [r for r in config.requirements if not _present(dep, r)]
    reasons = [_WORDS[r] for r in missing]
    if dep.authority_refused_at is not None:
        reasons.insert(0, f"the authority refused: {dep.authority_refusal or 'no reason given'}")
    urgent_open = dep.urgent_deadline is not None and dep.authority_reference is None
    # An urgent start covers only the authority's reference (signage is confirmed with the
    # start itself), and only once: its clock does not restart with each go-live.
    others = [m for m in missing if m is not R.SIGNAGE]
    only_reference = others == [R.AUTHORITY_REFERENCE] and dep.authority_refused_at is None
    if urgent_open and only_reference and R.SIGNAGE not in missing:
        return GoLiveCheck(
            ready=True, reasons=[], missing=[str(m) for m in missing], urgent_possible=False
        )
    return GoLiveCheck(
        ready=not reasons,
        reasons=reasons,
        missing=[str(m) for m in missing],
        urgent_possible=only_reference and dep.urgent_deadline is None,
    )


def prepare_start(
    ctx: Ctx,
    dep: Deployment,
    request: StartRequest,
    config: AuthorisationConfig,
    *,
    may_start_urgently: bool,
) -> dict[str, JSONValue]:
    """Record signage, open an urgent clock if asked and allowed, or refuse with every reason.

    Returns the legal details the start event carries.
    """
    if request.signage_confirmed and dep.signage_confirmed_at is None:
        dep.signage_confirmed_at = ctx.now
        dep.signage_confirmed_by = ctx.actor.label
        audit.record(
            ctx,
            Action.SIGNAGE_CONFIRMED,
            entity_type=ENTITY,
            entity_id=dep.id,
            deployment_id=dep.id,
        )
    state = check(dep, config)
    if not state.ready and state.urgent_possible and request.urgent_reason:
        if not may_start_urgently:
            raise Forbidden(
                "only an authorising officer or a commander may start before the authority's "
                "reference is recorded (urgent start)",
                code="urgent_not_allowed",
            )
        dep.urgent_started_at = ctx.now
        dep.urgent_deadline = ctx.now + timedelta(hours=config.urgent_hours)
        dep.urgent_reason = request.urgent_reason.strip()
        audit.record(
            ctx,
            Action.URGENT_START,
            entity_type=ENTITY,
            entity_id=dep.id,
            deployment_id=dep.id,
            details={
                "reason": dep.urgent_reason,
                "deadline": dep.urgent_deadline.isoformat(),
                "hours": config.urgent_hours,
            },
        )
        state = check(dep, config)
    if not state.ready:
        hint = (
            " An officer or commander may start urgently (urgent_reason) and record the "
            f"reference within {config.urgent_hours:g} h."
            if state.urgent_possible
            else ""
        )
        raise Conflict(
            f"deployment {dep.id} cannot go live: " + "; ".join(state.reasons) + "." + hint,
            code="authorisation_incomplete",
        )
    return {
        "jurisdiction": config.jurisdiction,
        "legal_basis_category": dep.legal_basis_category,
        "authority": dep.authority,
        "authority_reference": dep.authority_reference,
        "urgent_deadline": None if dep.urgent_deadline is None else dep.urgent_deadline.isoformat(),
    }
