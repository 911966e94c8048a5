"""Before a deployment: how many false alerts and missed people to expect, from measured rates.

Inputs: an evaluation's measured rates (``metrics.json`` of ``openlfr evaluate``
with the open-set protocol), the watchlist size, the faces expected per hour,
the hours, the threshold, and how many watchlisted people are expected to pass.

- Every face that passes is one search (a tracked person decided once).
- False alerts: non-mated searches × FPIR at the watchlist size (projected from
  the measured scores, beta-binomial model by default; see :mod:`openlfr.evaluation.scaling`).
- Missed people: watchlisted passers-by × FNIR (= 1 − TPIR at rank 1, measured
  at the evaluation's own watchlist size: a larger watchlist also lowers TPIR
  slightly, which this does not model).
- Two kinds of range are given: the *expected* count with the 95% interval of
  the rate behind it, and a 95% *plausible range* of the count actually seen,
  which adds chance (Poisson for false alerts, binomial for misses) at the ends
  of the rate interval.
- The threshold must be one the evaluation measured; otherwise the highest
  measured threshold below it is used (more false alerts, never fewer) and the
  plan says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from openlfr.evaluation.estimates import RateCurve
from openlfr.evaluation.results import EvaluationReport
from openlfr.evaluation.scaling import DEFAULT_MODEL, ExceedanceTable, ScalingModel


class PlannerInputError(ValueError):
    """The metrics file cannot supply the rates a plan needs."""


@dataclass(frozen=True, slots=True)
class MeasuredRates:
    """What a plan needs from one evaluation."""

    source: str
    model_id: str
    tpir: RateCurve
    exceedance: ExceedanceTable


@dataclass(frozen=True, slots=True)
class DeploymentPlan:
    """Expected false alerts and missed people for one deployment, with ranges."""

    source: str
    model_id: str
    watchlist_size: int
    measured_size: int
    faces_per_hour: float
    hours: float
    subjects_passing: float
    threshold_requested: float
    threshold: float
    searches: float
    fpir: float
    fpir_lo: float
    fpir_hi: float
    expected_false_alerts: float
    expected_false_alerts_lo: float
    expected_false_alerts_hi: float
    false_alerts_range: tuple[int, int]
    probability_any_false_alert: float
    probability_any_false_alert_hi: float
    tpir: float
    tpir_lo: float
    tpir_hi: float
    expected_missed: float
    expected_missed_lo: float
    expected_missed_hi: float
    missed_range: tuple[int, int]
    notes: tuple[str, ...]


def rates_from_report(report: EvaluationReport, source: str = "evaluation") -> MeasuredRates:
    if report.open_set is None:
        raise PlannerInputError(
            "the evaluation has no open-set results; run it with --protocol open-set"
        )
    return MeasuredRates(
        source, report.model.model_id, report.open_set.tpir, report.open_set.exceedance
    )


def _get(doc: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            raise PlannerInputError(f"metrics file lacks {'.'.join(keys)}")
        doc = doc[key]
    return doc


def load_rates(path: Path) -> MeasuredRates:
    """The open-set rates stored in an evaluation's ``metrics.json``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlannerInputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlannerInputError(f"{path} is not a readable metrics file: {exc}") from exc
    if _get(doc, "format") != "openlfr-evaluation/1":
        raise PlannerInputError(f"{path} is not an openlfr evaluation metrics file")
    if doc.get("open_set") is None:
        raise PlannerInputError(
            f"{path} has no open-set results; evaluate with --protocol open-set"
        )
    tp = _get(doc, "open_set", "tpir")
    ex = _get(doc, "open_set", "exceedance")
    try:
        tpir = RateCurve(
            np.asarray(tp["thresholds"], np.float64),
            np.asarray(tp["k"], np.int64),
            int(tp["n"]),
            np.asarray([np.nan if v is None else v for v in tp["lo"]], np.float64),
            np.asarray([np.nan if v is None else v for v in tp["hi"]], np.float64),
            str(tp["interval"]),
        )
        table = ExceedanceTable.from_histograms(
            ex["thresholds"],
            [[(int(v), int(f)) for v, f in h] for h in ex["histograms"]],
            int(ex["subjects"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlannerInputError(f"{path}: malformed open-set rates ({exc})") from exc
    return MeasuredRates(str(path), str(_get(doc, "model", "model_id")), tpir, table)


def plan_deployment(
    rates: MeasuredRates,
    *,
    watchlist_size: int,
    faces_per_hour: float,
    hours: float,
    threshold: float,
    subjects_passing: float = 0.0,
    model: ScalingModel = DEFAULT_MODEL,
    seed: int = 0,
) -> DeploymentPlan:
    """The expected outcome of a deployment (see the module docstring for the assumptions)."""
    if watchlist_size < 1:
        raise ValueError("watchlist size must be at least 1")
    if faces_per_hour < 0 or hours < 0 or subjects_passing < 0:
        raise ValueError("faces per hour, hours and subjects passing cannot be negative")
    searches = faces_per_hour * hours
    if subjects_passing > searches:
        raise ValueError("more watchlisted people passing than faces in total")
    grid = rates.exceedance.thresholds
    below = np.nonzero(grid <= threshold + 1e-9)[0]
    if below.size == 0:
        raise ValueError(f"threshold {threshold} is below every measured threshold")
    used = float(grid[below[-1]])
    notes = []
    if abs(used - threshold) > 1e-9:
        notes.append(f"threshold {threshold:g} was not measured; rates at {used:g} are used")
    table = rates.exceedance.restricted([used])
    fpir = float(table.fpir(watchlist_size, model)[0])
    lo, hi = table.fpir_interval(watchlist_size, model, seed=seed)
    fpir_lo, fpir_hi = float(lo[0]), float(hi[0])
    if watchlist_size > table.subjects:
        notes.append(
            f"FPIR is extrapolated from {table.subjects:,} measured subjects to {watchlist_size:,}"
        )
    nonmated = searches - subjects_passing
    tp = rates.tpir.at(used)
    fnir, fnir_lo, fnir_hi = 1.0 - tp.rate, 1.0 - tp.hi, 1.0 - tp.lo
    passing = round(subjects_passing)
    return DeploymentPlan(
        source=rates.source,
        model_id=rates.model_id,
        watchlist_size=watchlist_size,
        measured_size=table.subjects,
        faces_per_hour=faces_per_hour,
        hours=hours,
        subjects_passing=subjects_passing,
        threshold_requested=threshold,
        threshold=used,
        searches=searches,
        fpir=fpir,
        fpir_lo=fpir_lo,
        fpir_hi=fpir_hi,
        expected_false_alerts=nonmated * fpir,
        expected_false_alerts_lo=nonmated * fpir_lo,
        expected_false_alerts_hi=nonmated * fpir_hi,
        false_alerts_range=(
            int(stats.poisson.ppf(0.025, nonmated * fpir_lo)) if fpir_lo > 0 else 0,
            int(stats.poisson.ppf(0.975, nonmated * fpir_hi)) if fpir_hi > 0 else 0,
        ),
        probability_any_false_alert=1.0 - math.exp(-nonmated * fpir),
        probability_any_false_alert_hi=1.0 - math.exp(-nonmated * fpir_hi),
        tpir=tp.rate,
        tpir_lo=tp.lo,
        tpir_hi=tp.hi,
        expected_missed=subjects_passing * fnir,
        expected_missed_lo=subjects_passing * fnir_lo,
        expected_missed_hi=subjects_passing * fnir_hi,
        missed_range=(
            int(stats.binom.ppf(0.025, passing, fnir_lo)) if passing else 0,
            int(stats.binom.ppf(0.975, passing, fnir_hi)) if passing else 0,
        ),
        notes=tuple(notes),
    )
