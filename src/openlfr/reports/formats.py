"""Deployment records as JSON and CSV, and the wording shared by every page that shows them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from openlfr.reports.record import CategoryOutcomes, PublishedRecord

# One row per deployment, in the order a force's published table reads.
CSV_COLUMNS: tuple[str, ...] = (
    "deployment_id",
    "status",
    "date",
    "location",
    "area",
    "use_case",
    "duration_hours",
    "watchlist_size",
    "threshold",
    "calibration_id",
    "calibration_sha256",
    "threshold_override",
    "faces_seen_estimated",
    "alerts",
    "true_alerts",
    "false_alerts",
    "false_alerts_confirmed",
    "false_alerts_unconfirmed",
    "not_adjudicated",
    "queue_items",
    "two_person_required",
    "engagements_confirmed",
    "engagements_disputed",
    "engagements_overturned",
    "engagements_unconfirmed",
    "engagements",
    "arrests",
    "outcomes_by_category",
    "false_alert_rate_per_face",
    "false_alert_rate_per_alert",
    "name",
    "authorised_by",
    "legal_basis_category",
    "authority",
    "authority_reference",
    "authority_refused_at",
    "impact_assessment_reference",
    "registration_reference",
    "signage_confirmed_at",
    "urgent_started_at",
    "closed_at",
    "audit_head_seq",
    "audit_head_hash",
)

OUTCOME_LABELS: dict[str, str] = {
    "arrested": "arrested",
    "advised": "advised",
    "no_further_action": "no further action",
    "not_engaged": "not engaged",
    "false_confirmed": "false alert, confirmed",
    "false_unconfirmed": "false alert, unconfirmed",
    "not_adjudicated": "not adjudicated",
}


def record_json(record: PublishedRecord) -> str:
    return record.model_dump_json(indent=2) + "\n"


def records_json(records: Sequence[PublishedRecord]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in records], indent=2) + "\n"


def outcomes_text(rows: Sequence[CategoryOutcomes]) -> str:
    """``demo: 3 alerts (arrested 1, not engaged 2)`` for each category, ``;``-separated."""
    parts = []
    for row in rows:
        counts = row.model_dump(exclude={"category", "alerts"})
        detail = ", ".join(f"{OUTCOME_LABELS[k]} {v}" for k, v in counts.items() if v)
        parts.append(f"{row.category}: {row.alerts} alert{'s' * (row.alerts != 1)} ({detail})")
    return "; ".join(parts)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _two_person_cells(r: PublishedRecord) -> dict[str, object]:
    tp = r.two_person
    return {
        "two_person_required": None if tp is None else tp.required,
        "engagements_confirmed": None if tp is None else tp.confirmed,
        "engagements_disputed": None if tp is None else tp.disputed,
        "engagements_overturned": None if tp is None else tp.overturned,
        "engagements_unconfirmed": None if tp is None else tp.unconfirmed,
    }


def records_csv(records: Sequence[PublishedRecord]) -> str:
    """A header and one row per deployment (empty cells where a value is not known)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        values = {
            **r.model_dump(),
            "date": r.deployment_date,
            "faces_seen_estimated": r.faces_seen,
            "outcomes_by_category": outcomes_text(r.outcomes_by_category),
            "calibration_id": r.threshold_evidence.calibration_id,
            "calibration_sha256": r.threshold_evidence.calibration_sha256,
            "threshold_override": r.threshold_evidence.override_reason,
            **r.authorisation.model_dump(),
            **_two_person_cells(r),
        }
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def rate_text(rate: float | None) -> str:
    """``1 in 2,400 (0.042%)``; ``0`` for none; ``—`` when there is no denominator."""
    if rate is None:
        return "—"
    if rate == 0:
        return "0"
    return f"1 in {round(1 / rate):,} ({rate * 100:.3g}%)"


def hours_text(hours: float) -> str:
    """``2 h 05 min``; ``under a minute`` for a short period of use."""
    minutes = round(hours * 60)
    if minutes < 1:
        return "none" if hours <= 0 else "under a minute"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def count_text(value: int | None) -> str:
    return "not recorded" if value is None else f"{value:,}"
