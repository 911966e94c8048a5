"""Choose the threshold that meets a target FPIR at a stated watchlist size, with its uncertainty.

Method: FPIR at the target size is projected from the measured non-mated
scores (the beta-binomial model of :mod:`openlfr.evaluation.scaling` by default) on
a 0.001 grid of thresholds; the chosen threshold is the lowest grid value whose
projected FPIR is at or below the target. Its uncertainty comes from
re-choosing it on bootstrap resamples of the non-mated searches (whole
identities resampled): the 2.5th and 97.5th percentiles of those choices.

Rules: ``point`` takes the threshold chosen on the data as measured; ``upper``
takes the lowest threshold whose FPIR *upper* 95% bound (bootstrap, or the
exact bound where no false match was seen at all) meets the target: the
cautious choice for a force that must not exceed its stated false alert rate.

When the target lies below the smallest FPIR the data can show at that size
(``point``: one search exceeding one subject; ``upper``: the exact bound with
no false match in any comparison), no threshold can be *shown* to meet it. The
result is then flagged ``resolved = False``: with ``point`` the threshold is the
lowest one at which no non-mated search alerted at all, a lower bound on the
threshold needed; with ``upper`` there is none (``NaN``). Either way, more
non-mated searches are needed before the target can be claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from openlfr.evaluation.intervals import cluster_bootstrap_interval
from openlfr.evaluation.scaling import (
    DEFAULT_MODEL,
    ExceedanceTable,
    ScalingModel,
    exceedance_counts,
)

GRID_STEP = 0.001
FloatVector = npt.NDArray[np.float64]


class CalibrationRule(StrEnum):
    """Which of the bootstrap's threshold choices to adopt."""

    POINT = "point"
    UPPER = "upper"


@dataclass(frozen=True, slots=True)
class Calibration:
    """The chosen threshold, the evidence behind it, and how sure it is.

    Attributes:
        threshold: the threshold the rule picked (``NaN`` when the ``upper`` rule finds none).
        point_threshold: chosen on the data as measured.
        lo_threshold: 2.5th percentile of the ``point`` choice on bootstrap resamples.
        hi_threshold: 97.5th percentile of those choices.
        fpir: projected FPIR at ``threshold`` and ``watchlist_size``.
        fpir_lo, fpir_hi: its 95% interval (the upper end as the ``upper`` rule uses it).
        tpir: measured TPIR (rank 1) at ``threshold`` with its 95% interval.
        resolved: whether the data can show FPIR as low as the target at this size
            under the chosen rule.
        smallest_fpir: the lowest FPIR the data can show at this size under the rule
            (``point``: one search exceeding one subject; ``upper``: the exact upper
            bound with no false match seen).
    """

    target_fpir: float
    watchlist_size: int
    measured_size: int
    searches: int
    model: ScalingModel
    rule: CalibrationRule
    threshold: float
    point_threshold: float
    lo_threshold: float
    hi_threshold: float
    fpir: float
    fpir_lo: float
    fpir_hi: float
    tpir: float
    tpir_lo: float
    tpir_hi: float
    resolved: bool
    smallest_fpir: float
    bootstrap_resamples: int


def _first_meeting(fpir: FloatVector, grid: FloatVector, target: float) -> float:
    ok = np.nonzero(fpir <= target + 1e-15)[0]
    return float(grid[ok[0]]) if ok.size else float("nan")


def calibrate_threshold(
    nonmated_scores: npt.ArrayLike,
    nonmated_identities: npt.ArrayLike,
    mate_scores: npt.ArrayLike,
    mate_ranks: npt.ArrayLike,
    mated_identities: npt.ArrayLike,
    *,
    target_fpir: float,
    watchlist_size: int,
    model: ScalingModel = DEFAULT_MODEL,
    rule: CalibrationRule = CalibrationRule.POINT,
    n_boot: int = 500,
    seed: int = 0,
) -> Calibration:
    """Pick the threshold for ``target_fpir`` at ``watchlist_size`` (see module docstring).

    Args:
        nonmated_scores: ``(Q, S)`` every non-mated search against every subject.
        nonmated_identities: ``(Q,)`` who each non-mated search shows (resampling unit).
        mate_scores, mate_ranks, mated_identities: ``(M,)`` mated searches, for TPIR.
    """
    if not 0.0 < target_fpir < 1.0:
        raise ValueError(f"target FPIR must be between 0 and 1, got {target_fpir}")
    scores = np.asarray(nonmated_scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError("calibration needs non-mated searches against a non-empty watchlist")
    grid = np.round(np.arange(0, round(1 / GRID_STEP) + 1) * GRID_STEP, 6)
    table = ExceedanceTable(grid, exceedance_counts(scores, grid), scores.shape[1])
    fpir = table.fpir(watchlist_size, model)
    point = _first_meeting(fpir, grid, target_fpir)
    draws = table.bootstrap(
        watchlist_size, model, clusters=np.asarray(nonmated_identities), n_boot=n_boot, seed=seed
    )
    choices = np.array([_first_meeting(d, grid, target_fpir) for d in draws])
    lo_t, hi_t = (float(v) for v in np.nanquantile(choices, [0.025, 0.975]))
    upper_curve = np.quantile(draws, 0.975, axis=0)
    upper_curve[table.counts.sum(axis=0) == 0] = table.unseen_upper(watchlist_size)
    upper = _first_meeting(upper_curve, grid, target_fpir)
    chosen = point if rule is CalibrationRule.POINT else upper
    if rule is CalibrationRule.POINT:
        # The smallest non-zero FPIR visible: one search exceeding exactly one subject.
        one = np.zeros((scores.shape[0], 1), np.int64)
        one[0, 0] = 1
        one_table = ExceedanceTable(grid[:1], one, scores.shape[1])
        smallest = float(one_table.fpir(watchlist_size, model)[0])
    else:
        smallest = table.unseen_upper(watchlist_size)
    resolved = target_fpir >= smallest
    if np.isfinite(chosen):
        i = int(np.argmin(np.abs(grid - chosen)))
        f_point = float(fpir[i])
        f_lo, f_hi = float(np.quantile(draws[:, i], 0.025)), float(upper_curve[i])
    else:
        # No grid threshold can be shown to meet the target: nothing to report at one.
        f_point = f_lo = f_hi = float("nan")
    m_scores = np.asarray(mate_scores, dtype=np.float64)
    hits = (np.asarray(mate_ranks) == 1) & (m_scores >= chosen)
    if hits.size and np.isfinite(chosen):
        t_lo, t_hi = cluster_bootstrap_interval(hits, np.asarray(mated_identities), seed=seed)
        tpir, tpir_lo, tpir_hi = float(hits.mean()), float(t_lo[0]), float(t_hi[0])
    else:
        tpir, tpir_lo, tpir_hi = float("nan"), 0.0, 1.0
    return Calibration(
        target_fpir=target_fpir,
        watchlist_size=watchlist_size,
        measured_size=scores.shape[1],
        searches=scores.shape[0],
        model=model,
        rule=rule,
        threshold=chosen,
        point_threshold=point,
        lo_threshold=lo_t,
        hi_threshold=hi_t,
        fpir=f_point,
        fpir_lo=f_lo,
        fpir_hi=f_hi,
        tpir=tpir,
        tpir_lo=tpir_lo,
        tpir_hi=tpir_hi,
        resolved=resolved,
        smallest_fpir=smallest,
        bootstrap_resamples=n_boot,
    )
