"""Rates with confidence intervals across a threshold sweep, overall and per demographic group.

A :class:`RateCurve` is one rate (FPIR, TPIR, FMR, …) at every threshold of a
sweep: the count ``k``, the number of trials ``n``, the rate ``k / n`` (``NaN``
when ``n == 0``) and a 95% interval. Independent trials get a binomial interval
(Clopper–Pearson by default, Wilson on request); trials grouped by identity get
a bootstrap over identities (see :mod:`openlfr.evaluation.intervals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from openlfr.evaluation.intervals import (
    IntervalMethod,
    binomial_intervals,
    cluster_bootstrap_interval,
)
from openlfr.evaluation.significance import DifferentialTest, differential_test

FloatVector = npt.NDArray[np.float64]
IntVector = npt.NDArray[np.int64]
BoolMatrix = npt.NDArray[np.bool_]

IDENTITY_BOOTSTRAP = "identity-bootstrap"


class Metric(StrEnum):
    """Rate names as ISO/IEC 19795-1 uses them (plus detection)."""

    FMR = "FMR"
    FNMR = "FNMR"
    TPIR = "TPIR"
    FNIR = "FNIR"
    FPIR = "FPIR"
    MISIDENTIFICATION = "mated false alert rate"
    DETECTION = "detection rate"


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One rate at one threshold, with its interval."""

    k: int
    n: int
    lo: float
    hi: float

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else float("nan")


@dataclass(frozen=True, slots=True)
class RateCurve:
    """One rate at each threshold of a sweep.

    Attributes:
        thresholds: ``(T,)`` ascending thresholds.
        k: ``(T,)`` events at each threshold (alerts, misses, …).
        n: trials (the same at every threshold).
        lo: ``(T,)`` lower bound of the 95% interval.
        hi: ``(T,)`` upper bound.
        interval: how the interval was computed.
    """

    thresholds: FloatVector
    k: IntVector
    n: int
    lo: FloatVector
    hi: FloatVector
    interval: str

    @property
    def rate(self) -> FloatVector:
        if self.n == 0:
            return np.full(self.thresholds.shape, np.nan)
        return self.k / self.n

    def index(self, threshold: float) -> int:
        """Position of ``threshold`` in the sweep (it must be one of its values)."""
        hits = np.nonzero(np.isclose(self.thresholds, threshold, rtol=0.0, atol=1e-9))[0]
        if hits.size == 0:
            raise KeyError(f"threshold {threshold} is not in the sweep")
        return int(hits[0])

    def at(self, threshold: float) -> RatePoint:
        i = self.index(threshold)
        return RatePoint(int(self.k[i]), self.n, float(self.lo[i]), float(self.hi[i]))


def _clustered(clusters: npt.ArrayLike | None, n: int) -> bool:
    return clusters is not None and np.unique(np.asarray(clusters)).size < n


def rate_curve(
    hits: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    *,
    clusters: npt.ArrayLike | None = None,
    method: IntervalMethod = IntervalMethod.CLOPPER_PEARSON,
    n_boot: int = 1000,
    seed: int = 0,
) -> RateCurve:
    """A :class:`RateCurve` from ``(n, T)`` per-trial outcomes.

    ``clusters`` (``(n,)`` identities) switches to the bootstrap over identities
    when any identity has more than one trial.
    """
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    h = np.asarray(hits, dtype=bool).reshape(-1, t.size)
    k = h.sum(axis=0).astype(np.int64)
    n = int(h.shape[0])
    if _clustered(clusters, n):
        assert clusters is not None
        lo, hi = cluster_bootstrap_interval(h, clusters, n_boot=n_boot, seed=seed)
        interval = IDENTITY_BOOTSTRAP
    else:
        lo, hi = binomial_intervals(k, n, method)
        interval = str(method)
    return RateCurve(t, k, n, np.asarray(lo, np.float64), np.asarray(hi, np.float64), interval)


def at_or_above(scores: npt.ArrayLike, thresholds: npt.ArrayLike) -> BoolMatrix:
    """``(n, T)``: does each score reach each threshold (``>=``; ties are matches)."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    return np.asarray(s >= np.asarray(thresholds, dtype=np.float64).reshape(1, -1))


@dataclass(frozen=True, slots=True)
class GroupRates:
    """One rate per demographic group, and whether the groups differ significantly.

    Attributes:
        metric: which rate.
        grouping: the attribute(s), e.g. ``"sex"`` or ``"sex×ethnicity"``.
        curves: one curve per group value (empty groups are absent).
        test: the per-threshold differential test between the groups.
        unknown: trials whose group is unknown (excluded).
        untested: groups too small to test (fewer than ``min_group`` trials or
            identities): their rates are reported, but they take no part in the
            test and are not drawn as curves.
        min_group: the size below which a group is not tested.
    """

    metric: Metric
    grouping: str
    curves: dict[str, RateCurve]
    test: DifferentialTest
    unknown: int
    untested: tuple[str, ...] = ()
    min_group: int = 1

    @property
    def tested(self) -> dict[str, RateCurve]:
        """The curves of the groups that took part in the test."""
        return {g: c for g, c in self.curves.items() if g not in self.untested}


def group_rates(
    metric: Metric,
    grouping: str,
    hits: npt.ArrayLike,
    labels: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    *,
    clusters: npt.ArrayLike | None = None,
    method: IntervalMethod = IntervalMethod.CLOPPER_PEARSON,
    alpha: float = 0.05,
    n_boot: int = 1000,
    n_perm: int = 2000,
    seed: int = 0,
    min_group: int = 1,
) -> GroupRates:
    """Per-group :class:`RateCurve` and the differential test, from per-trial outcomes.

    ``labels`` holds each trial's group (``""`` = unknown, excluded and counted).
    A group with fewer than ``min_group`` trials, or (when ``clusters`` is given)
    fewer than ``min_group // 3`` identities, is reported but left out of the test.
    """
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    h = np.asarray(hits, dtype=bool).reshape(-1, t.size)
    lab = np.asarray(labels).astype(str).reshape(-1)
    ids = None if clusters is None else np.asarray(clusters).reshape(-1)
    curves = {}
    for value in sorted(set(lab.tolist()) - {""}):
        sel = lab == value
        curves[value] = rate_curve(
            h[sel],
            t,
            clusters=None if ids is None else ids[sel],
            method=method,
            n_boot=n_boot,
            seed=seed,
        )
    untested = tuple(
        g
        for g, c in curves.items()
        if c.n < min_group or (ids is not None and np.unique(ids[lab == g]).size < min_group // 3)
    )
    tested = np.where(np.isin(lab, list(untested)), "", lab) if untested else lab
    test = differential_test(h, tested, t, clusters=ids, alpha=alpha, n_perm=n_perm, seed=seed)
    return GroupRates(metric, grouping, curves, test, int((lab == "").sum()), untested, min_group)


def combined_labels(columns: list[list[str]]) -> list[str]:
    """Joint group labels (``"F×Asian"``); unknown if any part is unknown."""
    joined = []
    for parts in zip(*columns, strict=True):
        joined.append("" if any(p == "" for p in parts) else "×".join(parts))
    return joined
