"""The transparency report's charts, drawn with Matplotlib into PNG bytes (no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matplotlib.figure import Figure

from openlfr.reports.formats import OUTCOME_LABELS
from openlfr.reports.record import CategoryOutcomes, PublishedRecord

_ALERT_PARTS = (
    ("true_alerts", "true", "#2b7a3d"),
    ("false_alerts_confirmed", "false, confirmed", "#b3261e"),
    ("false_alerts_unconfirmed", "false, unconfirmed", "#e8837c"),
    ("not_adjudicated", "not adjudicated", "#9aa0a6"),
)
_OUTCOME_COLOURS = ("#1f4e79", "#4f81bd", "#9cc3e6", "#2b7a3d", "#b3261e", "#e8837c", "#9aa0a6")


@dataclass(frozen=True, slots=True)
class Bucket:
    """One interval of the period (a day, a week from Monday, or a month) and its deployments."""

    label: str
    start: date
    records: tuple[PublishedRecord, ...]

    def total(self, field: str) -> int:
        return sum(int(getattr(r, field) or 0) for r in self.records)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(records: Sequence[PublishedRecord], first: date, last: date) -> list[Bucket]:
    """Days for a period of up to 45 days, weeks up to 200, months beyond; empty ones kept."""
    span = (last - first).days + 1
    starts: list[date] = []
    if span <= 45:
        starts = [first + timedelta(days=i) for i in range(span)]
        fmt = "%d %b"
    elif span <= 200:
        d = first - timedelta(days=first.weekday())
        while d <= last:
            starts.append(d)
            d += timedelta(days=7)
        fmt = "w/c %d %b"
    else:
        d = _month_start(first)
        while d <= last:
            starts.append(d)
            d = _next_month(d)
        fmt = "%b %Y"
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else last + timedelta(days=1)
        inside = tuple(
            r for r in records if r.deployment_date is not None and start <= r.deployment_date < end
        )
        out.append(Bucket(start.strftime(fmt), start, inside))
    return out


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _axes(title: str, ylabel: str) -> tuple[Figure, Any]:
    fig = Figure(figsize=(6.4, 3.0))
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _labels(ax: Any, series: Sequence[Bucket]) -> None:
    step = max(1, len(series) // 12)  # at most about a dozen labels
    ticks = list(range(0, len(series), step))
    ax.set_xticks(ticks, [series[i].label for i in ticks], rotation=45, ha="right", fontsize=8)


def deployments_chart(series: Sequence[Bucket]) -> bytes:
    fig, ax = _axes("Deployments", "deployments")
    ax.bar(range(len(series)), [len(b.records) for b in series], color="#1f4e79")
    ax.yaxis.get_major_locator().set_params(integer=True)
    _labels(ax, series)
    return _png(fig)


def faces_chart(series: Sequence[Bucket]) -> bytes:
    fig, ax = _axes("Faces seen (estimated)", "faces")
    ax.bar(range(len(series)), [b.total("faces_seen") for b in series], color="#4f81bd")
    _labels(ax, series)
    return _png(fig)


def alerts_chart(series: Sequence[Bucket]) -> bytes:
    fig, ax = _axes("Alerts and how they were judged", "alerts")
    bottom = [0] * len(series)
    for field, label, colour in _ALERT_PARTS:
        values = [b.total(field) for b in series]
        ax.bar(range(len(series)), values, bottom=bottom, label=label, color=colour)
        bottom = [a + v for a, v in zip(bottom, values, strict=True)]
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, frameon=False)
    _labels(ax, series)
    return _png(fig)


def false_rate_chart(series: Sequence[Bucket]) -> bytes:
    """False alerts per 1,000 faces seen in each interval (nothing drawn where none were seen)."""
    fig, ax = _axes("False alert rate", "false alerts per 1,000 faces")
    values = []
    for b in series:
        faces = b.total("faces_seen")
        values.append(1000 * b.total("false_alerts") / faces if faces else 0.0)
    ax.bar(range(len(series)), values, color="#b3261e")
    ax.set_ylim(bottom=0, top=None if any(values) else 1)
    _labels(ax, series)
    return _png(fig)


def outcomes_chart(rows: Sequence[CategoryOutcomes]) -> bytes:
    fig, ax = _axes("Outcomes by offence category", "")
    names = [r.category.replace("_", " ") for r in rows] or ["(no alerts)"]
    left = [0] * len(names)
    for (field, label), colour in zip(OUTCOME_LABELS.items(), _OUTCOME_COLOURS, strict=True):
        values = [int(getattr(r, field)) for r in rows] or [0]
        ax.barh(names, values, left=left, label=label, color=colour)
        left = [a + v for a, v in zip(left, values, strict=True)]
    ax.set_xlabel("alerts")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)
