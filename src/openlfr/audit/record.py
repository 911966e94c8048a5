"""A deployment's record for oversight, rebuilt from the audit log alone (EU AI Act Art. 12(3)).

Art. 12(3) asks, for remote biometric identification: the period of each use
(start and end), the reference database searched, the input data that led to a
match, and who verified each result. Everything here comes from audit events,
so it survives the purge of the alerts, the watchlist and its templates.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from openlfr.audit.actions import Action
from openlfr.audit.chain import JSONValue
from openlfr.audit.service import details_of, iter_events, verify


class UsePeriod(BaseModel):
    run_id: int | None
    started_at: datetime
    started_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    watchlist_id: int | None
    watchlist_name: str | None
    watchlist_version: int | None
    watchlist_digest: str | None
    threshold: float | None
    cameras: list[str]


class Verification(BaseModel):
    decided_at: datetime
    decided_by: str
    decision: str | None
    outcome: str | None


class MatchRecord(BaseModel):
    alert_id: int
    recorded_at: datetime
    run_id: int | None
    camera: str | None
    captured_at: str | None
    subject_reference: str | None
    score: float | None
    threshold: float | None
    probe_sha256: str | None
    verification: Verification | None = None


class ThresholdChangeRecord(BaseModel):
    at: datetime
    by: str
    from_threshold: float | None
    to_threshold: float | None
    reason: str | None


class DeploymentRecord(BaseModel):
    deployment_id: int
    created_at: datetime | None = None
    authorised_at: datetime | None = None
    authorised_by: str | None = None
    closed_at: datetime | None = None
    purged_at: datetime | None = None
    uses: list[UsePeriod]
    matches: list[MatchRecord]
    threshold_changes: list[ThresholdChangeRecord]
    alerts_purged: int
    chain_verified: bool
    events: int


def _s(d: dict[str, JSONValue], key: str) -> str | None:
    v = d.get(key)
    return None if v is None else str(v)


def _i(d: dict[str, JSONValue], key: str) -> int | None:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _f(d: dict[str, JSONValue], key: str) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def deployment_record(db: Session, deployment_id: int) -> DeploymentRecord:
    """Rebuild one deployment's Art. 12(3) record from its audit events."""
    record = DeploymentRecord(
        deployment_id=deployment_id,
        uses=[],
        matches=[],
        threshold_changes=[],
        alerts_purged=0,
        chain_verified=verify(db).ok,
        events=0,
    )
    matches: dict[int, MatchRecord] = {}
    for event in iter_events(db, deployment_id=deployment_id):
        record.events += 1
        d = details_of(event)
        action = event.action
        if action == Action.DEPLOYMENT_CREATED:
            record.created_at = event.at
        elif action == Action.DEPLOYMENT_AUTHORISED:
            record.authorised_at, record.authorised_by = event.at, event.actor
        elif action == Action.DEPLOYMENT_STARTED:
            cameras = d.get("cameras")
            record.uses.append(
                UsePeriod(
                    run_id=_i(d, "run_id"),
                    started_at=event.at,
                    started_by=event.actor,
                    watchlist_id=_i(d, "watchlist_id"),
                    watchlist_name=_s(d, "watchlist_name"),
                    watchlist_version=_i(d, "watchlist_version"),
                    watchlist_digest=_s(d, "watchlist_digest"),
                    threshold=_f(d, "threshold"),
                    cameras=[str(c) for c in cameras] if isinstance(cameras, list) else [],
                )
            )
        elif action == Action.DEPLOYMENT_STOPPED:
            use = next((u for u in record.uses if u.run_id == _i(d, "run_id")), None)
            if use is not None:
                use.ended_at, use.ended_by, use.end_reason = event.at, event.actor, _s(d, "reason")
        elif action == Action.THRESHOLD_CHANGED:
            record.threshold_changes.append(
                ThresholdChangeRecord(
                    at=event.at,
                    by=event.actor,
                    from_threshold=_f(d, "from"),
                    to_threshold=_f(d, "to"),
                    reason=_s(d, "reason"),
                )
            )
        elif action == Action.ALERT_CREATED and event.entity_id is not None:
            matches[int(event.entity_id)] = MatchRecord(
                alert_id=int(event.entity_id),
                recorded_at=event.at,
                run_id=_i(d, "run_id"),
                camera=_s(d, "camera"),
                captured_at=_s(d, "captured_at"),
                subject_reference=_s(d, "subject_reference"),
                score=_f(d, "score"),
                threshold=_f(d, "threshold"),
                probe_sha256=_s(d, "probe_sha256"),
            )
        elif action == Action.ALERT_ADJUDICATED and event.entity_id is not None:
            match = matches.get(int(event.entity_id))
            if match is not None:
                match.verification = Verification(
                    decided_at=event.at,
                    decided_by=event.actor,
                    decision=_s(d, "decision"),
                    outcome=_s(d, "outcome"),
                )
        elif action == Action.ALERTS_PURGED:
            ids = d.get("alert_ids")
            record.alerts_purged += len(ids) if isinstance(ids, list) else 0
        elif action == Action.DEPLOYMENT_CLOSED:
            record.closed_at = event.at
        elif action == Action.DEPLOYMENT_PURGED:
            record.purged_at = event.at
    record.matches = sorted(matches.values(), key=lambda m: m.alert_id)
    return record
