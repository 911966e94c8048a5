"""Tests of whether an error rate differs between demographic groups, threshold by threshold.

Which test, and why:

- **Two groups, independent searches** (one search per person, e.g. one
  non-mated photo each): Fisher's exact test on the 2×2 table (alert / no alert
  × group). Alerts at operational thresholds are rare (often 0–10 per group),
  where the chi-square approximation is unreliable; Fisher's test is exact at
  any count.
- **More than two groups, or searches grouped by identity** (several photos of
  one person are not independent): a permutation test of Pearson's chi-square
  statistic on the groups × (alert, no alert) table. Group labels are shuffled
  between *identities* (each identity keeps all its searches), which keeps the
  within-person correlation intact, and with one search per identity is the
  Monte Carlo version of the Fisher–Freeman–Halton exact test. Seeded, so the
  p-values are reproducible; the smallest reachable p-value is ``1/(B+1)``.
- **Which pair of groups differs**: the same test on each pair, with Holm's
  step-down correction across the pairs at that threshold (controls the
  family-wise error at ``alpha``).

**Support.** A p-value below ``alpha`` resting on two or three alerts is what
testing a whole sweep without correction produces by chance; where the rarer
outcome (alerts for FPIR, misses for TPIR) numbers fewer than
:data:`MIN_SUPPORT` across the compared groups, a significant result is
reported with its support but never taken as the differential's onset.

Edge cases: empty groups are dropped before testing; fewer than two non-empty
groups, or no alert at all at a threshold (every group at 0%), gives ``p = 1``
(nothing to compare, nothing to detect). Thresholds are *not* corrected against
each other: neighbouring thresholds test nearly the same alerts, so the sweep
is a picture of where a differential appears, not a family of independent
claims. A non-significant result is not evidence of equal rates when the groups
are small (low power): the reports print the group sizes next to every p-value.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatVector = npt.NDArray[np.float64]
IntVector = npt.NDArray[np.int64]

# Fewest events of the rarer outcome (across the compared groups) on which a
# significant difference may be called the differential's onset.
MIN_SUPPORT = 10


class DifferentialMethod(StrEnum):
    """Which significance test produced a p-value."""

    FISHER_EXACT = "fisher-exact"
    PERMUTATION_CHI2 = "permutation-chi2"
    NOT_TESTABLE = "not-testable"


@dataclass(frozen=True, slots=True)
class DifferentialTest:
    """Per-threshold p-values for a difference in one rate between groups.

    Attributes:
        thresholds: ``(T,)`` the thresholds tested.
        groups: the non-empty groups compared.
        omnibus_p: ``(T,)`` p-value of "all groups have the same rate".
        pairwise_p: Holm-adjusted ``(T,)`` p-values for each pair of groups.
        method: the test behind ``omnibus_p``.
        pairwise_method: the test behind ``pairwise_p``.
        alpha: significance level.
        resamples: permutations used (0 for exact tests).
        support: ``(T,)`` events of the rarer outcome (hits or misses, whichever
            is fewer) among the compared searches at each threshold.
        min_support: the support a significant threshold needs to count for
            :attr:`onset`.
    """

    thresholds: FloatVector
    groups: tuple[str, ...]
    omnibus_p: FloatVector
    pairwise_p: dict[tuple[str, str], FloatVector]
    method: DifferentialMethod
    pairwise_method: DifferentialMethod
    alpha: float
    resamples: int
    support: IntVector | None = None
    min_support: int = MIN_SUPPORT

    @property
    def significant(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.omnibus_p < self.alpha)

    @property
    def supported(self) -> npt.NDArray[np.bool_]:
        """Significant, and resting on at least :attr:`min_support` events."""
        if self.support is None:
            return self.significant
        return np.asarray(self.significant & (self.support >= self.min_support))

    @property
    def onset(self) -> float | None:
        """The highest threshold with a significant, supported differential (``None`` if none).

        At every tested threshold above it the difference was either not
        significant or rested on fewer than :attr:`min_support` events:
        "a differential appears at and below this threshold".
        """
        hits = np.nonzero(self.supported)[0]
        return float(self.thresholds[hits].max()) if hits.size else None

    def range_support(self) -> list[tuple[float, float, int]]:
        """Each of :attr:`significant_ranges` with the fewest events at any of its thresholds."""
        out = []
        t = self.thresholds
        for lo, hi in self.significant_ranges:
            inside = (t >= lo - 1e-9) & (t <= hi + 1e-9)
            least = int(self.support[inside].min()) if self.support is not None else -1
            out.append((lo, hi, least))
        return out

    @property
    def significant_ranges(self) -> list[tuple[float, float]]:
        """Runs of consecutive significant thresholds, low to high.

        An isolated run of one or two thresholds far above the rest, resting on a
        handful of alerts, is what uncorrected testing across a sweep produces by
        chance now and then; the runs make it visible instead of hiding it in
        :attr:`onset`.
        """
        runs: list[tuple[float, float]] = []
        start: float | None = None
        previous = 0.0
        for t, sig in zip(self.thresholds.tolist(), self.significant.tolist(), strict=True):
            if sig and start is None:
                start = t
            if not sig and start is not None:
                runs.append((start, previous))
                start = None
            previous = t
        if start is not None:
            runs.append((start, previous))
        return runs


def holm_adjust(pvalues: npt.ArrayLike) -> FloatVector:
    """Holm's step-down adjusted p-values (same order as given; capped at 1)."""
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted


def fisher_exact_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value for ``k1/n1`` vs ``k2/n2``; 1 if either ``n`` is 0."""
    if n1 == 0 or n2 == 0 or (k1 + k2) in (0, n1 + n2):
        return 1.0
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    return float(stats.fisher_exact(table).pvalue)


def _chi2(hits: FloatVector, sizes: FloatVector) -> FloatVector:
    """Pearson chi-square of a groups × (hit, miss) table; ``hits`` is ``(..., G)``."""
    total = sizes.sum()
    k = hits.sum(axis=-1, keepdims=True)
    expected_hit = sizes * k / total
    expected_miss = sizes - expected_hit
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(expected_hit > 0, (hits - expected_hit) ** 2 / expected_hit, 0.0)
        b = np.where(expected_miss > 0, (hits - expected_hit) ** 2 / expected_miss, 0.0)
    return np.asarray((a + b).sum(axis=-1), dtype=np.float64)


def _permutation_p(
    per_cluster: FloatVector,
    cluster_sizes: FloatVector,
    cluster_group: npt.NDArray[np.intp],
    n_groups: int,
    n_perm: int,
    rng: np.random.Generator,
) -> FloatVector:
    """``(T,)`` permutation p-values of the chi-square statistic, shuffling clusters' groups."""
    onehot = np.eye(n_groups)[cluster_group]  # (C, G)
    observed = _chi2((onehot.T @ per_cluster).T, onehot.T @ cluster_sizes)  # (T,)
    exceed = np.zeros(per_cluster.shape[1])
    for _ in range(n_perm):
        perm = onehot[rng.permutation(onehot.shape[0])]
        stat = _chi2((perm.T @ per_cluster).T, perm.T @ cluster_sizes)
        exceed += stat >= observed - 1e-9
    p = (exceed + 1.0) / (n_perm + 1.0)
    # No hit anywhere (or hits everywhere): nothing differs, whatever the shuffle.
    k = per_cluster.sum(axis=0)
    p[(k == 0) | (k == cluster_sizes.sum())] = 1.0
    return np.asarray(p, dtype=np.float64)


def differential_test(
    hits: npt.ArrayLike,
    groups: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    *,
    clusters: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    n_perm: int = 2000,
    seed: int = 0,
) -> DifferentialTest:
    """Test, at each threshold, whether the rate of ``hits`` differs between ``groups``.

    Args:
        hits: ``(n, T)`` booleans, e.g. "this non-mated search alerted at threshold t".
        groups: ``(n,)`` group label of each search (e.g. ``"F"``); ``""`` = unknown, dropped.
        thresholds: ``(T,)`` the thresholds the columns stand for.
        clusters: ``(n,)`` identity of each search, or ``None`` when every search
            is a different person. Each identity must belong to one group; when the
            labels of one identity disagree its most frequent label is used.
        alpha: significance level.
        n_perm: permutations for the permutation test.
        seed: makes permutation p-values reproducible.
    """
    h = np.asarray(hits, dtype=np.float64)
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if h.ndim == 1:
        h = h[:, None]
    labels = np.asarray(groups).astype(str)
    if h.shape != (labels.size, t.size):
        raise ValueError(
            f"hits {h.shape} do not match {labels.size} searches × {t.size} thresholds"
        )
    known = labels != ""
    h, labels = h[known], labels[known]
    events = h.sum(axis=0)
    support = np.minimum(events, labels.size - events).astype(np.int64)
    ids = np.arange(labels.size) if clusters is None else np.asarray(clusters)[known]
    group_names = tuple(sorted(set(labels.tolist())))
    if len(group_names) < 2:
        return DifferentialTest(
            t,
            group_names,
            np.ones(t.size),
            {},
            DifferentialMethod.NOT_TESTABLE,
            DifferentialMethod.NOT_TESTABLE,
            alpha,
            0,
            support,
        )
    # Collapse to identities: hits and searches per identity, one group each.
    _, inverse = np.unique(ids, return_inverse=True)
    n_clusters = int(inverse.max()) + 1
    per_cluster = np.zeros((n_clusters, t.size))
    np.add.at(per_cluster, inverse, h)
    sizes = np.bincount(inverse, minlength=n_clusters).astype(np.float64)
    group_index = {g: i for i, g in enumerate(group_names)}
    votes = np.zeros((n_clusters, len(group_names)))
    np.add.at(votes, (inverse, np.array([group_index[g] for g in labels.tolist()])), 1.0)
    cluster_group = votes.argmax(axis=1).astype(np.intp)
    independent = n_clusters == labels.size
    rng = np.random.default_rng(seed)

    def group_counts(g: int) -> tuple[FloatVector, float]:
        sel = cluster_group == g
        return per_cluster[sel].sum(axis=0), float(sizes[sel].sum())

    def test_subset(members: list[int]) -> FloatVector:
        if independent and len(members) == 2:
            (k1, n1), (k2, n2) = group_counts(members[0]), group_counts(members[1])
            return np.array(
                [
                    fisher_exact_p(int(a), int(n1), int(b), int(n2))
                    for a, b in zip(k1, k2, strict=True)
                ]
            )
        sel = np.isin(cluster_group, members)
        remap = np.searchsorted(np.array(members), cluster_group[sel])
        return _permutation_p(per_cluster[sel], sizes[sel], remap, len(members), n_perm, rng)

    all_groups = list(range(len(group_names)))
    exact = independent and len(group_names) == 2
    omnibus = test_subset(all_groups)
    pairs = list(itertools.combinations(all_groups, 2))
    raw = np.array([omnibus if len(pairs) == 1 else test_subset([a, b]) for a, b in pairs])
    adjusted = np.apply_along_axis(holm_adjust, 0, raw) if raw.size else raw
    pairwise = {(group_names[a], group_names[b]): adjusted[i] for i, (a, b) in enumerate(pairs)}
    return DifferentialTest(
        thresholds=t,
        groups=group_names,
        omnibus_p=omnibus,
        pairwise_p=pairwise,
        method=DifferentialMethod.FISHER_EXACT if exact else DifferentialMethod.PERMUTATION_CHI2,
        pairwise_method=DifferentialMethod.FISHER_EXACT
        if independent
        else DifferentialMethod.PERMUTATION_CHI2,
        alpha=alpha,
        resamples=0 if exact else n_perm,
        support=support,
    )
