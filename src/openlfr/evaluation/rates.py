"""Biometric error rates as pure functions over score arrays (ISO/IEC 19795-1 names).

Conventions, the same in every function:

- **Ties**: a score ``s`` is a match at threshold ``t`` when ``s >= t``. A score
  exactly at the threshold is a match (it would raise an alert), so it counts
  towards FMR, TPIR and FPIR and against FNMR and FNIR.
- **Zero denominators**: a rate over no trials is ``NaN`` (undefined), never 0;
  reports write it as ``null``. An empty score array is not an error.
- **Ranks** (1:N): a mate's rank is 1 plus the number of *other* subjects scoring
  strictly higher, so a tie with another subject is resolved in the mate's favour.
- Rates are vectorised over thresholds: pass a ``(T,)`` array of thresholds and get
  ``(T,)`` rates back.

Aliases join the biometric and the ML names: FMR is the false positive rate of a
1:1 comparison, FNMR its false negative rate; TPIR = 1 − FNIR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatVector = npt.NDArray[np.float64]
IntVector = npt.NDArray[np.int64]


def _scores(values: npt.ArrayLike) -> FloatVector:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.isnan(arr).any():
        raise ValueError("scores contain NaN; drop failed acquisitions before computing rates")
    return arr


def _thresholds(thresholds: npt.ArrayLike) -> FloatVector:
    return np.atleast_1d(np.asarray(thresholds, dtype=np.float64))


def count_at_or_above(scores: npt.ArrayLike, thresholds: npt.ArrayLike) -> IntVector:
    """``(T,)`` how many scores are ``>= t`` for each threshold (ties included)."""
    s = np.sort(_scores(scores))
    t = _thresholds(thresholds)
    return (s.size - np.searchsorted(s, t, side="left")).astype(np.int64)


def _ratio(k: npt.ArrayLike, n: int) -> FloatVector:
    k_arr = np.asarray(k, dtype=np.float64)
    if n == 0:
        return np.full(k_arr.shape, np.nan)
    return k_arr / n


def fmr(impostor_scores: npt.ArrayLike, thresholds: npt.ArrayLike) -> FloatVector:
    """False match rate: share of impostor comparisons scoring ``>= t``."""
    s = _scores(impostor_scores)
    return _ratio(count_at_or_above(s, thresholds), s.size)


def fnmr(genuine_scores: npt.ArrayLike, thresholds: npt.ArrayLike) -> FloatVector:
    """False non-match rate: share of genuine comparisons scoring ``< t``."""
    s = _scores(genuine_scores)
    return _ratio(s.size - count_at_or_above(s, thresholds), s.size)


def tpir(
    mate_scores: npt.ArrayLike,
    mate_ranks: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    *,
    rank: int = 1,
) -> FloatVector:
    """True positive identification rate of mated searches.

    A mated search is a true positive at ``t`` when its mate is returned at rank
    ``<= rank`` with a score ``>= t``. With ``rank=1`` this is what an operator
    sees: the top candidate is the right person and it alerts.
    """
    scores = _scores(mate_scores)
    ranks = np.asarray(mate_ranks, dtype=np.int64).reshape(-1)
    if ranks.shape != scores.shape:
        raise ValueError(f"{scores.size} mate scores but {ranks.size} ranks")
    return _ratio(count_at_or_above(scores[ranks <= rank], thresholds), scores.size)


def fnir(
    mate_scores: npt.ArrayLike,
    mate_ranks: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    *,
    rank: int = 1,
) -> FloatVector:
    """False negative identification rate, ``1 - TPIR`` (``NaN`` stays ``NaN``)."""
    return 1.0 - tpir(mate_scores, mate_ranks, thresholds, rank=rank)


def fpir(nonmated_top_scores: npt.ArrayLike, thresholds: npt.ArrayLike) -> FloatVector:
    """False positive identification rate: share of non-mated searches whose best
    candidate scores ``>= t`` (any candidate at all would raise an alert)."""
    s = _scores(nonmated_top_scores)
    return _ratio(count_at_or_above(s, thresholds), s.size)


def rank_one_rate(mate_ranks: npt.ArrayLike) -> float:
    """Closed-set rank-1 identification rate (no threshold); ``NaN`` for no searches."""
    ranks = np.asarray(mate_ranks, dtype=np.int64).reshape(-1)
    return float(np.mean(ranks == 1)) if ranks.size else float("nan")


def mate_ranks(scores: npt.ArrayLike, mate_columns: npt.ArrayLike) -> IntVector:
    """``(P,)`` rank of each probe's mate in its ``(P, S)`` score row (ties favour the mate)."""
    s = np.asarray(scores, dtype=np.float64)
    cols = np.asarray(mate_columns, dtype=np.int64).reshape(-1)
    if s.ndim != 2 or s.shape[0] != cols.size:
        raise ValueError(f"scores {s.shape} do not match {cols.size} mate columns")
    mate = s[np.arange(cols.size), cols]
    return np.asarray(1 + (s > mate[:, None]).sum(axis=1), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class DetCurve:
    """Error trade-off: for each threshold, the false-positive and false-negative rates.

    For 1:1 these are FMR and FNMR; for 1:N, FPIR and FNIR. Thresholds ascend,
    so the false-positive rate falls and the false-negative rate rises along it.
    """

    thresholds: FloatVector
    false_positive: FloatVector
    false_negative: FloatVector


def det_curve(positive_scores: npt.ArrayLike, negative_scores: npt.ArrayLike) -> DetCurve:
    """Every operating point: one per distinct score in either array.

    ``positive_scores`` are genuine (1:1) or mate (1:N, rank ignored) scores;
    ``negative_scores`` impostor scores or non-mated best scores.
    """
    pos = _scores(positive_scores)
    neg = _scores(negative_scores)
    thresholds = np.unique(np.concatenate([pos, neg]))
    return DetCurve(
        thresholds=thresholds,
        false_positive=_ratio(count_at_or_above(neg, thresholds), neg.size),
        false_negative=_ratio(pos.size - count_at_or_above(pos, thresholds), pos.size),
    )


def equal_error_rate(
    genuine_scores: npt.ArrayLike, impostor_scores: npt.ArrayLike
) -> tuple[float, float]:
    """``(EER, threshold)``: where FMR and FNMR are closest, their mean, and that threshold.

    Among the candidate thresholds (every distinct score) the one minimising
    ``|FMR - FNMR|`` is taken (the lowest such threshold on a tie); the EER is
    ``(FMR + FNMR) / 2`` there. Either array empty: ``(NaN, NaN)``.
    """
    g = _scores(genuine_scores)
    i = _scores(impostor_scores)
    if g.size == 0 or i.size == 0:
        return float("nan"), float("nan")
    curve = det_curve(g, i)
    gap = np.abs(curve.false_positive - curve.false_negative)
    best = int(np.argmin(gap))
    eer = (curve.false_positive[best] + curve.false_negative[best]) / 2
    return float(eer), float(curve.thresholds[best])


def threshold_for_rate(negative_scores: npt.ArrayLike, target: float) -> float:
    """The lowest threshold whose false-positive rate is ``<= target``.

    With scores sorted high to low, ``floor(target * n)`` of them may be at or
    above the threshold; the threshold is set just above the next one. If no
    score needs excluding (``target >= 1``) it is the lowest score; an empty
    array gives ``NaN``.
    """
    s = np.sort(_scores(negative_scores))[::-1]
    if s.size == 0:
        return float("nan")
    allowed = int(np.floor(target * s.size + 1e-9))
    if allowed >= s.size:
        return float(s[-1])
    return float(np.nextafter(s[allowed], np.inf))
