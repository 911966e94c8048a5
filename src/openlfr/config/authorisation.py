"""The legal conditions of going live, per jurisdiction: what a deployment must record first."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Requirement(StrEnum):
    """One thing a deployment must have recorded before it may go live."""

    LEGAL_BASIS_CATEGORY = "legal_basis_category"
    AUTHORITY = "authority"
    AUTHORITY_REFERENCE = "authority_reference"
    IMPACT_ASSESSMENT = "impact_assessment_reference"
    REGISTRATION = "registration_reference"
    SIGNAGE = "signage"


R = Requirement

# The UK: a senior officer's (or, as the 2025-26 consultation proposes, a statutory
# body's) written authority, the policing basis and signs at the site (College of
# Policing APP on LFR). The EU AI Act Art. 5(2)-(3), 27 and 49 add prior judicial or
# independent authorisation, a fundamental-rights impact assessment and registration.
PROFILES: dict[str, tuple[Requirement, ...]] = {
    "uk": (R.LEGAL_BASIS_CATEGORY, R.AUTHORITY, R.AUTHORITY_REFERENCE, R.SIGNAGE),
    "eu": (
        R.LEGAL_BASIS_CATEGORY,
        R.AUTHORITY,
        R.AUTHORITY_REFERENCE,
        R.IMPACT_ASSESSMENT,
        R.REGISTRATION,
        R.SIGNAGE,
    ),
}

# 'openlfr demo' on consenting volunteers' photos: no policing power is used. It is
# published in the deployment record like any other category.
DEMONSTRATION = "demonstration"

CATEGORIES: dict[str, tuple[str, ...]] = {
    "uk": (
        "common_law_policing",
        "statutory_power",
        "court_order",
        DEMONSTRATION,
    ),
    # Art. 5(1)(h)(i)-(iii): the three objectives real-time RBI may serve.
    "eu": (
        "art5_1h_i_targeted_search_victims",
        "art5_1h_ii_prevention_of_threat",
        "art5_1h_iii_suspect_serious_crime",
        DEMONSTRATION,
    ),
}


class AuthorisationConfig(BaseModel):
    """What must be recorded before a deployment goes live, and how long an urgent start lasts.

    A deployment cannot start while a required item is missing; the refusal lists
    each missing item. An *urgent start* may go live without the authority's
    reference for at most ``urgent_hours``: the retention scheduler stops it, and
    purges its alerts, crops and watchlist, when that time passes with no
    reference recorded, and at once when a refusal is recorded.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: Literal["uk", "eu"] = Field(
        default="uk",
        description="Which profile of requirements applies: 'uk' (legal basis category, "
        "authorising authority and its reference, signage) or 'eu' (also the fundamental-"
        "rights impact assessment, Art. 27, and the registration, Art. 49).",
    )
    required: tuple[Requirement, ...] | None = Field(
        default=None,
        description="Override the profile's list of requirements (an empty list requires "
        "nothing: only for tests and demonstrations outside any jurisdiction).",
    )
    legal_basis_categories: tuple[str, ...] | None = Field(
        default=None,
        description="Accepted legal basis categories; default: the profile's list.",
    )
    urgent_hours: float = Field(
        default=24.0,
        gt=0,
        le=24,
        description="How long an urgent start may run without the authority's reference "
        "(EU AI Act Art. 5(3): the request within 24 h).",
    )
    check_interval_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How often the scheduler checks deadlines and authorised ends.",
    )

    @model_validator(mode="after")
    def _known(self) -> AuthorisationConfig:
        if self.legal_basis_categories is not None and not self.legal_basis_categories:
            raise ValueError("legal_basis_categories, when given, must not be empty")
        return self

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return PROFILES[self.jurisdiction] if self.required is None else self.required

    @property
    def categories(self) -> tuple[str, ...]:
        return self.legal_basis_categories or CATEGORIES[self.jurisdiction]
