"""The transparency report: every deployment of a period, totals, charts and the equitability
headline of the latest evaluation, as one printable HTML page.

A deployment belongs to the period in which its first period of live use
began. Records of deployments not yet closed are included and marked
provisional. Totals of faces seen leave out deployments whose counts were not
recorded, and say so.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from openlfr.reports import charts
from openlfr.reports.equitability import EquitabilityHeadline, latest_evaluation, read_headline
from openlfr.reports.html import render_page
from openlfr.reports.record import CategoryOutcomes, PublishedRecord, build_record, deployments_in


@dataclass(frozen=True, slots=True)
class Totals:
    """The period's sums (rates from the sums, not averages of rates)."""

    deployments: int
    hours: float
    faces_seen: int
    faces_unrecorded: int  # deployments whose faces seen are unknown (left out of the sum)
    alerts: int
    true_alerts: int
    false_alerts: int
    false_alerts_confirmed: int
    false_alerts_unconfirmed: int
    not_adjudicated: int
    engagements: int
    arrests: int

    @property
    def false_alert_rate_per_face(self) -> float | None:
        return self.false_alerts / self.faces_seen if self.faces_seen else None

    @property
    def false_alert_rate_per_alert(self) -> float | None:
        return self.false_alerts / self.alerts if self.alerts else None


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    first_day: date
    last_day: date
    generated_at: datetime
    records: tuple[PublishedRecord, ...]
    totals: Totals
    outcomes: tuple[CategoryOutcomes, ...]
    equitability: EquitabilityHeadline | None
    evaluation_note: str


def totals_of(records: Sequence[PublishedRecord]) -> Totals:
    return Totals(
        deployments=len(records),
        hours=sum(r.duration_hours for r in records),
        faces_seen=sum(r.faces_seen or 0 for r in records),
        faces_unrecorded=sum(r.faces_seen is None for r in records),
        alerts=sum(r.alerts for r in records),
        true_alerts=sum(r.true_alerts for r in records),
        false_alerts=sum(r.false_alerts for r in records),
        false_alerts_confirmed=sum(r.false_alerts_confirmed for r in records),
        false_alerts_unconfirmed=sum(r.false_alerts_unconfirmed for r in records),
        not_adjudicated=sum(r.not_adjudicated for r in records),
        engagements=sum(r.engagements for r in records),
        arrests=sum(r.arrests for r in records),
    )


def outcomes_of(records: Sequence[PublishedRecord]) -> tuple[CategoryOutcomes, ...]:
    """Outcomes by offence category over every deployment, most alerted categories first."""
    sums: dict[str, Counter[str]] = {}
    for r in records:
        for row in r.outcomes_by_category:
            counter = sums.setdefault(row.category, Counter())
            counter.update(row.model_dump(exclude={"category"}))
    rows = [CategoryOutcomes(category=c, **dict(v)) for c, v in sums.items()]
    return tuple(sorted(rows, key=lambda r: (-r.alerts, r.category)))


def _headline_threshold(records: Sequence[PublishedRecord], default: float) -> float:
    """The threshold most deployments used (the evaluation is read at it)."""
    used = Counter(r.threshold for r in records)
    return used.most_common(1)[0][0] if used else default


def build_report(
    db: Session,
    first_day: date,
    last_day: date,
    *,
    now: datetime,
    evaluations: Sequence[Path],
    default_threshold: float,
) -> TransparencyReport:
    """Records of the deployments that began between ``first_day`` and ``last_day`` (inclusive)."""
    if last_day < first_day:
        raise ValueError("the period ends before it begins")
    start = datetime.combine(first_day, time(0), UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), UTC)
    records = tuple(build_record(db, i, now=now) for i in deployments_in(db, start, end))
    threshold = _headline_threshold(records, default_threshold)
    latest = latest_evaluation(evaluations)
    headline = None if latest is None else read_headline(latest, threshold)
    if headline is None:
        looked = ", ".join(str(p) for p in evaluations) or "nowhere"
        note = (
            f"No evaluation with a demographic analysis was found (looked in: {looked}). "
            "Run 'openlfr evaluate' with an open-set protocol and groups, then name its "
            "report folder with --evaluation."
        )
    else:
        note = f"From {headline.source} (evaluated {headline.created_at})."
    return TransparencyReport(
        first_day=first_day,
        last_day=last_day,
        generated_at=now,
        records=records,
        totals=totals_of(records),
        outcomes=outcomes_of(records),
        equitability=headline,
        evaluation_note=note,
    )


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def report_page(report: TransparencyReport) -> str:
    """The report as a standalone page, charts embedded as base64 PNG."""
    series = charts.buckets(report.records, report.first_day, report.last_day)
    figures = [
        ("Deployments in each interval of the period.", charts.deployments_chart(series)),
        ("Faces seen (estimated: confirmed face tracks).", charts.faces_chart(series)),
        ("Alerts by the operator's judgement.", charts.alerts_chart(series)),
        ("False alerts per 1,000 faces seen.", charts.false_rate_chart(series)),
        ("Outcomes of the alerts, by offence category.", charts.outcomes_chart(report.outcomes)),
    ]
    return render_page(
        "transparency.html",
        report=report,
        totals=report.totals,
        figures=[(caption, _data_uri(png)) for caption, png in figures],
    )
