"""The deployment record a force publishes after each deployment (the Met's published fields).

Built from what survives every purge: the deployment row with its periods of use
(and the cameras' counts kept when each period ended), the watchlist version's
counts, and the audit log (each alert's offence category and the operator's
decision). No face, template or image is read.

Definitions (also in docs/demo.md):

- *faces seen (estimated)*: confirmed face tracks over all periods of use; one
  person can make more than one track, so it is an estimate (usually a slight
  overestimate). ``None`` when a period's counts were never recorded (the
  process died) — then the rates per face are not given either.
- *true alert*: the operator judged a viable match (engaged with an outcome other
  than "not the person", or chose not to engage).
- *false alert, confirmed*: engaged, and the person was found not to be the
  listed subject. *False alert, unconfirmed*: the operator judged "no match"
  without engaging.
- *false alert rate*: false alerts (both kinds) per face seen, and per alert; an
  empty denominator gives ``None`` (shown as "—").
- alerts not yet adjudicated count in neither, and are listed separately.
- *queue items* (episodes): an operator's queue shows one item per subject's repeat
  sightings within the episode window; ``alerts`` counts every sighting.
- *two-person verification* (per queue item, where the deployment required it):
  *confirmed*: a second, different person agreed to engage; *disputed*: the second
  person disagreed (nobody acted; their decision stands); *overturned*: confirmed,
  but the engagement found it was not the person; *unconfirmed*: proposed, never
  answered before the record was made.
- once *published* (see reports/publication.py), a record never changes: its
  figures and audit anchor stay as published, and anything recorded later is
  listed under *amendments* (dated, attributed), not folded into the figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alert_records.models import AlertRecord, Decision, Outcome
from openlfr.audit.actions import Action
from openlfr.audit.models import AuditHead
from openlfr.audit.service import details_of, iter_events
from openlfr.calibrations.models import CalibrationRecord
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.reports.publication import Amendment, amendments, published
from openlfr.users.people import people, person_by_id
from openlfr.watchlist_records.models import Subject, WatchlistState, WatchlistVersion

RECORD_FORMAT: Literal["openlfr-deployment-record/1"] = "openlfr-deployment-record/1"
UNKNOWN_CATEGORY = "unknown"


class CategoryOutcomes(BaseModel):
    """What came of the alerts for subjects of one offence category (counts)."""

    category: str
    alerts: int = 0
    arrested: int = 0
    advised: int = 0
    no_further_action: int = 0
    not_engaged: int = 0
    false_confirmed: int = 0
    false_unconfirmed: int = 0
    not_adjudicated: int = 0


class TwoPersonCounts(BaseModel):
    """How engagements fared under two-person verification (see the module docstring)."""

    required: bool = Field(description="The deployment required it.")
    proposed: int = 0
    confirmed: int = 0
    disputed: int = 0
    overturned: int = 0
    unconfirmed: int = 0


class LegalAuthorisation(BaseModel):
    """The deployment's legal conditions as recorded: references a reader can look up."""

    legal_basis_category: str | None = None
    authority: str | None = Field(default=None, description="The authorising authority.")
    authority_reference: str | None = None
    authority_recorded_at: datetime | None = None
    authority_refused_at: datetime | None = None
    impact_assessment_reference: str | None = None
    registration_reference: str | None = None
    signage_confirmed_at: datetime | None = None
    urgent_started_at: datetime | None = Field(
        default=None, description="Started before the authority's reference was recorded."
    )
    urgent_deadline: datetime | None = None


class ThresholdEvidence(BaseModel):
    """What the threshold rested on: a stored calibration of the model, or an override."""

    calibration_id: int | None = None
    calibration_sha256: str | None = Field(
        default=None, description="SHA-256 of the calibration document (recomputable from it)."
    )
    model_id: str | None = None
    calibration_dataset: str | None = None
    calibrated_threshold: float | None = None
    target_fpir: float | None = None
    calibrated_watchlist_size: int | None = None
    override_reason: str | None = Field(
        default=None, description="Why it ran without a calibration backing the threshold."
    )
    override_by: str | None = None
    override_threshold: float | None = None


class PublishedRecord(BaseModel):
    """One deployment's published record (see the module docstring for every definition)."""

    format: Literal["openlfr-deployment-record/1"] = RECORD_FORMAT
    deployment_id: int
    name: str
    status: Literal["final", "provisional"] = Field(
        description="final once the deployment is closed; provisional while it may still run"
    )
    deployment_date: date | None = Field(description="Day of the first period of use (UTC).")
    started_at: datetime | None
    ended_at: datetime | None
    location: str
    area: str
    use_case: str
    legal_basis: str
    authorised_by: str | None = Field(
        description="Who authorised it: rank, collar or staff number and name."
    )
    authorised_by_account: str | None = Field(
        default=None, description="The account that authorised it, as the audit log names it."
    )
    authorised_at: datetime | None
    authorisation: LegalAuthorisation = Field(default_factory=LegalAuthorisation)
    closed_at: datetime | None
    periods_of_use: int
    duration_hours: float
    watchlist_size: int | None
    threshold: float
    thresholds_used: list[float]
    threshold_evidence: ThresholdEvidence = Field(default_factory=ThresholdEvidence)
    faces_seen: int | None
    alerts: int
    queue_items: int | None = Field(
        default=None, description="Episodes: one per subject's repeat sightings."
    )
    two_person: TwoPersonCounts | None = None
    true_alerts: int
    false_alerts: int
    false_alerts_confirmed: int
    false_alerts_unconfirmed: int
    not_adjudicated: int
    engagements: int
    arrests: int
    outcomes_by_category: list[CategoryOutcomes]
    false_alert_rate_per_face: float | None
    false_alert_rate_per_alert: float | None
    audit_head_seq: int | None = Field(
        description="The audit log's newest event when this record was made: publish it to "
        "anchor the log outside the database."
    )
    audit_head_hash: str | None
    generated_at: datetime
    published_at: datetime | None = Field(
        default=None, description="When the final record was published (then frozen)."
    )
    record_sha256: str | None = Field(
        default=None,
        description="SHA-256 of the record as published (without these three fields), also "
        "in the audit log's deployment.record_published event.",
    )
    amendments: list[Amendment] = Field(
        default_factory=list,
        description="Recorded after publication (late decisions, alerts or counts): listed, "
        "never folded into the published figures.",
    )


def _ratio(numerator: int, denominator: int | None) -> float | None:
    return None if not denominator else numerator / denominator


def _watchlist_size(db: Session, watchlist_id: int | None) -> int | None:
    if watchlist_id is None:
        return None
    wl = db.get(WatchlistVersion, watchlist_id)
    if wl is None:
        return None
    return wl.subjects_purged if wl.state == WatchlistState.PURGED else len(wl.subjects)


def _fallback_category(db: Session, alert_id: int) -> str:
    """For alerts logged before the category was: the live rows, while they exist."""
    row = db.execute(
        select(Subject.category)
        .join(AlertRecord, AlertRecord.subject_id == Subject.id)
        .where(AlertRecord.id == alert_id)
    ).scalar_one_or_none()
    return row or UNKNOWN_CATEGORY


def _tally(db: Session, deployment_id: int) -> dict[str, CategoryOutcomes]:
    """Each alert's category and adjudication, from the deployment's audit events."""
    category: dict[int, str] = {}
    decided: dict[int, tuple[str | None, str | None]] = {}
    for event in iter_events(db, deployment_id=deployment_id):
        if event.entity_id is None:
            continue
        if event.action == Action.ALERT_CREATED:
            d = details_of(event)
            value = d.get("category")
            alert_id = int(event.entity_id)
            category[alert_id] = (
                str(value) if isinstance(value, str) else _fallback_category(db, alert_id)
            )
        elif event.action == Action.ALERT_ADJUDICATED:
            d = details_of(event)
            decision, outcome = d.get("decision"), d.get("outcome")
            decided[int(event.entity_id)] = (
                decision if isinstance(decision, str) else None,
                outcome if isinstance(outcome, str) else None,
            )
    out: dict[str, CategoryOutcomes] = {}
    for alert_id, cat in category.items():
        row = out.setdefault(cat, CategoryOutcomes(category=cat))
        row.alerts += 1
        decision, outcome = decided.get(alert_id, (None, None))
        if decision is None:
            row.not_adjudicated += 1
        elif decision == Decision.FALSE_ALERT:
            row.false_unconfirmed += 1
        elif decision == Decision.NOT_ENGAGED:
            row.not_engaged += 1
        elif outcome == Outcome.NOT_THE_PERSON:
            row.false_confirmed += 1
        elif outcome == Outcome.ARRESTED:
            row.arrested += 1
        elif outcome == Outcome.ADVISED:
            row.advised += 1
        else:
            row.no_further_action += 1
    return out


def _two_person(db: Session, dep: Deployment) -> tuple[int, TwoPersonCounts]:
    """Queue items and the verification of engagements, from the deployment's audit events."""
    items: set[int] = set()
    state: dict[int, str] = {}
    outcome: dict[int, str | None] = {}
    steps = {
        Action.ENGAGEMENT_PROPOSED: "proposed",
        Action.ENGAGEMENT_CONFIRMED: "confirmed",
        Action.ENGAGEMENT_DISPUTED: "disputed",
    }
    for event in iter_events(db, deployment_id=dep.id):
        d = details_of(event)
        if event.action == Action.ALERT_CREATED and isinstance(d.get("episode_id"), int):
            items.add(int(d["episode_id"]))  # type: ignore[arg-type]
        elif event.action in steps and event.entity_id is not None:
            state[int(event.entity_id)] = steps[Action(event.action)]
        elif event.action == Action.EPISODE_DECIDED and event.entity_id is not None:
            value = d.get("outcome")
            outcome[int(event.entity_id)] = value if isinstance(value, str) else None
    counts = TwoPersonCounts(required=dep.two_person, proposed=len(state))
    for ep, where in state.items():
        if where == "confirmed":
            counts.confirmed += 1
            if outcome.get(ep) == Outcome.NOT_THE_PERSON:
                counts.overturned += 1
        elif where == "disputed":
            counts.disputed += 1
        else:
            counts.unconfirmed += 1
    return len(items), counts


def _evidence(db: Session, dep: Deployment) -> ThresholdEvidence:
    out = ThresholdEvidence(
        calibration_id=dep.calibration_id,
        calibration_sha256=dep.calibration_sha256,
        override_reason=dep.evidence_override,
        override_by=dep.evidence_override_by,
        override_threshold=dep.evidence_override_threshold,
    )
    row = db.get(CalibrationRecord, dep.calibration_id) if dep.calibration_id else None
    if row is not None:
        out.model_id = row.model_id
        out.calibration_dataset = row.dataset
        out.calibrated_threshold = row.threshold
        out.target_fpir = row.target_fpir
        out.calibrated_watchlist_size = row.watchlist_size
    return out


def build_record(db: Session, deployment_id: int, *, now: datetime) -> PublishedRecord:
    """The published record (frozen, with any amendments) once there is one; before that the
    record as it stands at ``now``, provisional."""
    row = published(db, deployment_id)
    if row is not None:
        record = PublishedRecord.model_validate_json(row.record)
        late = amendments(db, row)
        who = people(db, [a.by for a in late])
        return record.model_copy(
            update={
                "published_at": row.published_at,
                "record_sha256": row.record_sha256,
                "amendments": [a.model_copy(update={"by": who[a.by]}) for a in late],
            }
        )
    record = compute_record(db, deployment_id, now=now)
    return record.model_copy(update={"status": "provisional"})


def compute_record(db: Session, deployment_id: int, *, now: datetime) -> PublishedRecord:
    """The record of one deployment computed afresh (``final`` once it is closed)."""
    dep = db.get(Deployment, deployment_id)
    if dep is None:
        raise LookupError(f"no deployment with id {deployment_id}")
    runs = list(dep.runs)
    seconds = sum(((r.ended_at or now) - r.started_at).total_seconds() for r in runs)
    faces: int | None = sum(r.faces_seen or 0 for r in runs)
    if any(r.faces_seen is None for r in runs):
        faces = None  # a period whose counts were lost: no honest total
    by_category = _tally(db, dep.id)
    rows = sorted(by_category.values(), key=lambda r: (-r.alerts, r.category))
    total = Counter[str]()
    for r in rows:
        for key, value in r.model_dump(exclude={"category"}).items():
            total[key] += value
    false_alerts = total["false_confirmed"] + total["false_unconfirmed"]
    queue_items, two_person = _two_person(db, dep)
    head = db.get(AuditHead, 1)
    thresholds = sorted({r.threshold for r in runs} or {dep.threshold})
    return PublishedRecord(
        deployment_id=dep.id,
        name=dep.name,
        status="final" if dep.state == DeploymentState.CLOSED else "provisional",
        deployment_date=runs[0].started_at.astimezone(UTC).date() if runs else None,
        started_at=runs[0].started_at if runs else None,
        ended_at=runs[-1].ended_at if runs else None,
        location=dep.location,
        area=dep.area,
        use_case=dep.purpose,
        legal_basis=dep.legal_basis,
        authorised_by=person_by_id(db, dep.authorised_by_id, dep.authorised_by),
        authorised_by_account=dep.authorised_by,
        authorised_at=dep.authorised_at,
        authorisation=LegalAuthorisation(
            legal_basis_category=dep.legal_basis_category,
            authority=dep.authority,
            authority_reference=dep.authority_reference,
            authority_recorded_at=dep.authority_recorded_at,
            authority_refused_at=dep.authority_refused_at,
            impact_assessment_reference=dep.impact_assessment_reference,
            registration_reference=dep.registration_reference,
            signage_confirmed_at=dep.signage_confirmed_at,
            urgent_started_at=dep.urgent_started_at,
            urgent_deadline=dep.urgent_deadline,
        ),
        closed_at=dep.closed_at,
        periods_of_use=len(runs),
        duration_hours=round(seconds / 3600, 4),
        watchlist_size=_watchlist_size(db, dep.watchlist_id),
        threshold=dep.threshold,
        thresholds_used=thresholds,
        threshold_evidence=_evidence(db, dep),
        faces_seen=faces if runs else 0,
        alerts=total["alerts"],
        queue_items=queue_items,
        two_person=two_person,
        true_alerts=total["arrested"]
        + total["advised"]
        + total["no_further_action"]
        + total["not_engaged"],
        false_alerts=false_alerts,
        false_alerts_confirmed=total["false_confirmed"],
        false_alerts_unconfirmed=total["false_unconfirmed"],
        not_adjudicated=total["not_adjudicated"],
        engagements=total["arrested"]
        + total["advised"]
        + total["no_further_action"]
        + total["false_confirmed"],
        arrests=total["arrested"],
        outcomes_by_category=rows,
        false_alert_rate_per_face=_ratio(false_alerts, faces if runs else 0),
        false_alert_rate_per_alert=_ratio(false_alerts, total["alerts"]),
        audit_head_seq=None if head is None else head.last_seq,
        audit_head_hash=None if head is None else head.last_hash,
        generated_at=now,
    )


def deployments_in(db: Session, start: datetime, end: datetime) -> list[int]:
    """Deployments whose first period of use began in ``[start, end)``, in that order."""
    found = []
    for dep in db.execute(select(Deployment)).scalars():
        if dep.runs and start <= dep.runs[0].started_at < end:
            found.append((dep.runs[0].started_at, dep.id))
    return [dep_id for _, dep_id in sorted(found)]
