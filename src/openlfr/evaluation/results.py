"""Typed results of an evaluation, and their conversion to the JSON that ``metrics.json`` holds.

JSON conventions: ``NaN`` (an undefined rate, e.g. no trials) is written as
``null``; floats keep six significant digits; NumPy arrays become lists; a DET
curve is thinned to at most :data:`DET_POINTS` points spread along its length;
rows skipped from a dataset are summarised (count per reason, first
:data:`PROBLEM_EXAMPLES` in full); the per-search exceedance
table is written as per-threshold histograms (enough to redo any watchlist-size
projection, e.g. for ``openlfr plan``, and free of any biometric data).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from openlfr.evaluation.datasets import RowProblem
from openlfr.evaluation.estimates import GroupRates, RateCurve, RatePoint
from openlfr.evaluation.rates import DetCurve
from openlfr.evaluation.scaling import ExceedanceTable, ScalingCheck, ScalingModel
from openlfr.evaluation.verification import FoldAccuracy
from openlfr.evaluation.video import VideoReport

FloatVector = npt.NDArray[np.float64]
DET_POINTS = 400


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of scores in fixed bins (``edges`` has one more entry than ``counts``)."""

    edges: FloatVector
    counts: npt.NDArray[np.int64]

    @classmethod
    def of(cls, scores: npt.ArrayLike, bins: int = 100) -> Histogram:
        counts, edges = np.histogram(
            np.asarray(scores, dtype=np.float64), bins=bins, range=(-0.2, 1.0)
        )
        return cls(edges, counts.astype(np.int64))


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The models and settings every number was measured with."""

    pack: str
    model_id: str
    detector_input_width: int
    detector_score_threshold: float
    detector_nms_threshold: float
    face_rule: str


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """What a dataset held, what was left out and why, and how often a face was found.

    ``detection_by_group`` holds the detection rate per group (its single
    "threshold" is the detector's score threshold).
    """

    name: str
    root: str
    labels: str
    role: str
    images: int
    identities: int
    has_identities: bool
    pad: float
    problems: tuple[RowProblem, ...]
    acquired: int
    no_face: int
    unreadable: int
    multiple_faces: int
    no_face_files: tuple[str, ...]
    unreadable_files: tuple[tuple[str, str], ...]
    attribute_counts: dict[str, dict[str, int]]
    aliases: dict[str, str]
    detection: RateCurve
    detection_by_group: tuple[GroupRates, ...]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The threshold that meets a target FMR, and the FNMR there."""

    target_fmr: float
    threshold: float
    fmr: float
    fnmr: float


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """1:1 results on listed pairs."""

    pairs_listed: int
    pairs_scored: int
    pairs_lost: int
    pair_problems: tuple[RowProblem, ...]
    genuine: int
    impostor: int
    folds: tuple[FoldAccuracy, ...]
    mean_accuracy: float
    sd_accuracy: float
    fmr: RateCurve
    fnmr: RateCurve
    eer: float
    eer_threshold: float
    det: DetCurve
    operating_points: tuple[OperatingPoint, ...]
    fnmr_by_group: tuple[GroupRates, ...]
    fmr_by_group_pair: tuple[GroupRates, ...]
    genuine_histogram: Histogram
    impostor_histogram: Histogram


@dataclass(frozen=True, slots=True)
class CrossTab:
    """Non-mated alerts at one threshold by (searched person's group, alerted subject's group)."""

    grouping: str
    threshold: float
    searches: dict[str, int]
    alerts: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class NonmatedAlert:
    """One of the highest-scoring non-mated searches: where to look for label errors.

    The same person filed under two names (LFW has several) shows up here as a
    "false alert" with a very high score.
    """

    file: str
    identity: str
    subject: str
    score: float


@dataclass(frozen=True, slots=True)
class ScreenedPair:
    """One high cross-set score: a non-mated photo and the watchlist subject it resembles most.

    Attributes:
        score: their similarity.
        file: the non-mated photo, relative to its dataset folder.
        subject: the top watchlist subject.
        subject_file: that subject's first reference photo, relative to the watchlist's folder.
        labels: the non-mated photo's demographic labels.
        verdict: ``same`` (reviewed: the same person; left out of the non-mated
            searches), ``different`` (reviewed: different people; kept) or ``""``
            (not reviewed).
        note: the reviewer's note.
    """

    score: float
    file: str
    subject: str
    subject_file: str
    labels: dict[str, str]
    verdict: str
    note: str


@dataclass(frozen=True, slots=True)
class CrossSetScreen:
    """Screening of non-mated searches drawn from another dataset than the watchlist's.

    Sets crawled from the web share people (public figures, and lookalike
    infants): a cross-set "false alert" is often the same person. ``pairs``
    holds the highest scores (every excluded pair among them) for a person to
    review by eye; ``reviewed`` names the file of verdicts applied.
    """

    nonmated_source: str
    nonmated_root: str
    watchlist_source: str
    watchlist_root: str
    reviewed: str | None
    reviewed_sha256: str | None
    excluded: int
    kept_after_review: int
    entries_not_in_run: int
    pairs: tuple[ScreenedPair, ...]


@dataclass(frozen=True, slots=True)
class AlertConcentration:
    """Which watchlist subjects the non-mated alerts at one threshold fell on.

    When a few subjects draw most false alerts (a baby's photo on the watchlist
    drawing every child's face, say), rates and group differences depend on who
    is on the watchlist as much as on the model.
    """

    threshold: float
    alerts: int
    subjects_alerted: int
    top: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ScalingProjection:
    """Projected FPIR for a watchlist size at the report thresholds, with a bootstrap interval."""

    size: int
    model: ScalingModel
    thresholds: FloatVector
    fpir: FloatVector
    lo: FloatVector
    hi: FloatVector


@dataclass(frozen=True, slots=True)
class OpenSetReport:
    """1:N open-set results against one watchlist drawn from the data."""

    watchlist_size: int
    references_per_identity: int
    seed: int
    nonmated_share: float
    nonmated_source: str
    enrolment_failures: int
    held_out: int
    mated_searches: int
    mated_unacquired: int
    mated_identities: int
    nonmated_searches: int
    nonmated_unacquired: int
    nonmated_identities: int
    tpir: RateCurve
    fpir: RateCurve
    misidentification: RateCurve
    rank_one: RatePoint
    det: DetCurve
    tpir_by_group: tuple[GroupRates, ...]
    fpir_by_group: tuple[GroupRates, ...]
    false_alert_groups: tuple[CrossTab, ...]
    highest_nonmated: tuple[NonmatedAlert, ...]
    alert_concentration: tuple[AlertConcentration, ...]
    exceedance: ExceedanceTable
    scaling_check: ScalingCheck
    projections: tuple[ScalingProjection, ...]
    mate_histogram: Histogram
    nonmated_histogram: Histogram
    cross_set: CrossSetScreen | None = None


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """Everything one ``openlfr evaluate`` run measured."""

    created_at: str
    openlfr_version: str
    command: str
    model: ModelInfo
    configured_threshold: float
    configured_verify_threshold: float
    report_thresholds: tuple[float, ...]
    interval_method: str
    alpha: float
    seed: int
    datasets: tuple[DatasetSummary, ...]
    verification: VerificationReport | None
    open_set: OpenSetReport | None
    video: VideoReport | None
    timings: dict[str, float]
    cache_hits: int
    cache_misses: int
    caveats: tuple[str, ...]


def _thin(curve: DetCurve) -> dict[str, Any]:
    n = curve.thresholds.size
    idx = (
        np.unique(np.linspace(0, n - 1, min(n, DET_POINTS)).round().astype(int))
        if n
        else np.zeros(0, int)
    )
    return {
        "thresholds": to_jsonable(curve.thresholds[idx]),
        "false_positive": to_jsonable(curve.false_positive[idx]),
        "false_negative": to_jsonable(curve.false_negative[idx]),
        "points_total": n,
    }


def _rate_curve(curve: RateCurve) -> dict[str, Any]:
    return {
        "thresholds": to_jsonable(curve.thresholds),
        "k": to_jsonable(curve.k),
        "n": curve.n,
        "rate": to_jsonable(curve.rate),
        "lo": to_jsonable(curve.lo),
        "hi": to_jsonable(curve.hi),
        "interval": curve.interval,
    }


PROBLEM_EXAMPLES = 25
_PROBLEM_FIELDS = frozenset({"problems", "pair_problems"})


def _problems(problems: tuple[RowProblem, ...]) -> dict[str, Any]:
    by_reason: dict[str, int] = {}
    for p in problems:
        # "image not in the dataset: X" varies per row; count by the part before the colon.
        key = p.reason.split(":")[0]
        by_reason[key] = by_reason.get(key, 0) + 1
    return {
        "count": len(problems),
        "by_reason": by_reason,
        "examples": [to_jsonable(p) for p in problems[:PROBLEM_EXAMPLES]],
    }


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types for any result object (dataclasses, arrays, enums, NaN → null)."""
    if obj is None or isinstance(obj, bool | str | int):
        return obj
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        # Six significant digits: far finer than any interval, and a third of the size.
        return float(f"{obj:.6g}")
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return (
            [to_jsonable(v) for v in obj.tolist()]
            if obj.ndim == 1
            else [to_jsonable(r) for r in obj]
        )
    if isinstance(obj, DetCurve):
        return _thin(obj)
    if isinstance(obj, RateCurve):
        return _rate_curve(obj)
    if isinstance(obj, ExceedanceTable):
        return {
            "thresholds": to_jsonable(obj.thresholds),
            "subjects": obj.subjects,
            "searches": obj.searches,
            "histograms": [[list(p) for p in h] for h in obj.histograms()],
        }
    if isinstance(obj, RatePoint):
        return {"k": obj.k, "n": obj.n, "rate": to_jsonable(obj.rate), "lo": obj.lo, "hi": obj.hi}
    if isinstance(obj, GroupRates):
        test = obj.test
        return {
            "metric": obj.metric.value,
            "grouping": obj.grouping,
            "unknown": obj.unknown,
            "groups": {g: _rate_curve(c) for g, c in obj.curves.items()},
            "untested_groups": list(obj.untested),
            "min_group": obj.min_group,
            "test": {
                "method": test.method.value,
                "pairwise_method": test.pairwise_method.value,
                "alpha": test.alpha,
                "resamples": test.resamples,
                "groups": list(test.groups),
                "thresholds": to_jsonable(test.thresholds),
                "omnibus_p": to_jsonable(test.omnibus_p),
                "pairwise_p": {
                    f"{a} vs {b}": to_jsonable(p) for (a, b), p in test.pairwise_p.items()
                },
                # The highest threshold with a significant difference resting on at
                # least min_support events; ranges list every significant run with
                # the fewest events at any of its thresholds.
                "differential_onset": test.onset,
                "min_support": test.min_support,
                "support": to_jsonable(test.support),
                "significant_ranges": [list(r) for r in test.significant_ranges],
                "significant_range_support": [list(r) for r in test.range_support()],
            },
        }
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: _problems(value) if f.name in _PROBLEM_FIELDS else to_jsonable(value)
            for f in dataclasses.fields(obj)
            for value in [getattr(obj, f.name)]
        }
    if isinstance(obj, dict):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    raise TypeError(f"cannot convert {type(obj).__name__} to JSON")
