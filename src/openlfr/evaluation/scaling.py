"""FPIR at other watchlist sizes, from the non-mated scores measured against one watchlist.

A non-mated search alerts when *any* of the ``N`` subjects scores at or above
the threshold, so FPIR grows with ``N``. Each of ``Q`` non-mated searches
exceeds the threshold against ``e_p`` of the ``S`` measured subjects; three
models carry that to size ``N``:

- **beta-binomial** (default): each search has its own per-comparison false
  match rate ``q_p`` (some faces resemble many people, most resemble nobody),
  spread across searches as a Beta distribution fitted to the counts by the
  method of moments (mean and over-dispersion). ``FPIR(N) = 1 - E[(1 - q) ** N]
  = 1 - B(a, b + N) / B(a, b)``. With no over-dispersion it reduces to the
  independent model.
- **per-probe**: each search keeps its own observed rate ``e_p / S``. For
  ``N <= S`` this is exact for a random ``N``-subject sub-watchlist,
  ``mean_p [1 - C(S - e_p, N) / C(S, N)]`` (at ``N = S`` it *is* the measured
  FPIR). Above ``S`` it is biased low: a search that matched nobody among ``S``
  is taken to match nobody ever, so use it only as a lower reference there.
- **independent comparisons**: one pooled false match rate ``FMR = sum(e_p) / (Q S)``
  and ``FPIR = 1 - (1 - FMR) ** N`` (≈ ``N × FMR`` when small), the textbook
  formula. It assumes every comparison is an independent coin; FPIR is
  concave in the rate, so it never predicts less than the other two.

Limits, which the reports repeat: no model can resolve a per-comparison rate
below about ``1 / (Q S)`` or show FPIR much below ``1 / Q`` at ``N = S``;
extrapolating far beyond ``S`` assumes the extra subjects look like the
measured ones (same population, same image quality). :func:`validate_scaling`
checks every model on the data itself: it predicts the full-size FPIR from a
quarter of the watchlist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from openlfr.evaluation.intervals import clopper_pearson_interval

FloatVector = npt.NDArray[np.float64]
IntMatrix = npt.NDArray[np.int64]


class ScalingModel(StrEnum):
    """How FPIR is carried from the measured watchlist size to another."""

    BETA_BINOMIAL = "beta-binomial"
    PER_PROBE = "per-probe"
    INDEPENDENT = "independent-comparisons"


DEFAULT_MODEL = ScalingModel.BETA_BINOMIAL


def exceedance_counts(scores: npt.ArrayLike, thresholds: npt.ArrayLike) -> IntMatrix:
    """``(Q, T)``: for each search, how many subjects score ``>= t`` (ties count)."""
    s = np.sort(np.asarray(scores, dtype=np.float64), axis=1)
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    counts = np.empty((s.shape[0], t.size), np.int64)
    for i, row in enumerate(s):
        counts[i] = row.size - np.searchsorted(row, t, side="left")
    return counts


def _none_among(exceed: FloatVector, subjects: int, size: int) -> FloatVector:
    """P(no exceeding subject among ``size`` drawn from ``subjects``), element-wise."""
    if size <= subjects:
        # Hypergeometric: C(S - e, N) / C(S, N), in logs to stay finite.
        left = subjects - exceed
        ok = left >= size
        safe = np.where(ok, left, size)
        log_p = (
            gammaln(safe + 1)
            - gammaln(safe - size + 1)
            - gammaln(subjects + 1)
            + gammaln(subjects - size + 1)
        )
        return np.where(ok, np.exp(log_p), 0.0)
    return np.asarray((1.0 - exceed / subjects) ** size, dtype=np.float64)


def _beta_binomial_fpir(counts: IntMatrix, subjects: int, size: int) -> FloatVector:
    """``1 - B(a, b + N) / B(a, b)`` with ``a, b`` fitted per threshold by moments."""
    e = counts.astype(np.float64)
    mean = e.sum(axis=0) / (e.shape[0] * subjects)
    independent = 1.0 - (1.0 - mean) ** size
    if subjects < 2:
        return np.asarray(independent, dtype=np.float64)
    binomial_var = subjects * mean * (1.0 - mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Var(e) = S m (1 - m) (1 + (S - 1) rho): rho is the intra-search correlation.
        rho = (e.var(axis=0) / binomial_var - 1.0) / (subjects - 1)
    dispersed = np.isfinite(rho) & (rho > 1e-9) & (mean > 0) & (mean < 1)
    out = np.asarray(independent, dtype=np.float64).copy()
    r = np.clip(rho[dispersed], 1e-9, 1 - 1e-9)
    m = mean[dispersed]
    a, b = m * (1 / r - 1), (1 - m) * (1 / r - 1)
    log_none = gammaln(b + size) + gammaln(a + b) - gammaln(a + b + size) - gammaln(b)
    out[dispersed] = 1.0 - np.exp(log_none)
    return out


@dataclass(frozen=True, slots=True)
class ExceedanceTable:
    """Per-search exceedance counts at each threshold: all either model needs.

    Attributes:
        thresholds: ``(T,)``.
        counts: ``(Q, T)`` subjects at or above each threshold, per search.
        subjects: ``S``, the measured watchlist size.
    """

    thresholds: FloatVector
    counts: IntMatrix
    subjects: int

    @property
    def searches(self) -> int:
        return int(self.counts.shape[0])

    def fpir(self, size: int, model: ScalingModel = DEFAULT_MODEL) -> FloatVector:
        """``(T,)`` predicted FPIR for a watchlist of ``size`` subjects."""
        return self.fpir_for_counts(self.counts, size, model)

    def fpir_for_counts(self, counts: IntMatrix, size: int, model: ScalingModel) -> FloatVector:
        """:meth:`fpir` for another set of searches' counts (same thresholds and subjects)."""
        if size < 1:
            raise ValueError(f"watchlist size must be at least 1, got {size}")
        if counts.shape[0] == 0 or self.subjects == 0:
            return np.full(self.thresholds.shape, np.nan)
        if model is ScalingModel.INDEPENDENT:
            pooled = counts.sum(axis=0) / (counts.shape[0] * self.subjects)
            return np.asarray(1.0 - (1.0 - pooled) ** size, dtype=np.float64)
        if model is ScalingModel.BETA_BINOMIAL:
            return _beta_binomial_fpir(counts, self.subjects, size)
        # A search's chance of alerting depends only on its count: tabulate once, then look up.
        alert = 1.0 - _none_among(
            np.arange(self.subjects + 1, dtype=np.float64), self.subjects, size
        )
        return np.asarray(alert[counts].mean(axis=0), dtype=np.float64)

    def fpir_interval(
        self,
        size: int,
        model: ScalingModel = DEFAULT_MODEL,
        *,
        clusters: npt.ArrayLike | None = None,
        n_boot: int = 500,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> tuple[FloatVector, FloatVector]:
        """Interval of :meth:`fpir`: a percentile bootstrap over searches (or identities).

        ``clusters`` (``(Q,)`` identity per search) resamples whole identities. The
        bootstrap cannot see beyond the data: where no search exceeded any
        subject every resample gives 0, so there the upper end comes from
        :meth:`unseen_upper` instead: "nothing seen" never reads "zero".
        """
        if self.searches == 0:
            nan = np.full(self.thresholds.shape, np.nan)
            return nan, nan
        draws = self.bootstrap(size, model, clusters=clusters, n_boot=n_boot, seed=seed)
        alpha = 1.0 - confidence
        lo = np.quantile(draws, alpha / 2, axis=0)
        hi = np.quantile(draws, 1 - alpha / 2, axis=0)
        unseen = self.counts.sum(axis=0) == 0
        hi[unseen] = self.unseen_upper(size, confidence)
        return lo, hi

    def bootstrap(
        self,
        size: int,
        model: ScalingModel,
        *,
        clusters: npt.ArrayLike | None = None,
        n_boot: int = 500,
        seed: int = 0,
    ) -> npt.NDArray[np.float64]:
        """``(n_boot, T)`` FPIR at ``size`` on resamples of the searches (or identities)."""
        ids = np.arange(self.searches) if clusters is None else np.asarray(clusters)
        _, inverse = np.unique(ids, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        starts = np.searchsorted(inverse[order], np.arange(int(inverse.max()) + 1))
        ends = np.append(starts[1:], order.size)
        members = [order[a:b] for a, b in zip(starts, ends, strict=True)]
        rng = np.random.default_rng(seed)
        draws = np.empty((n_boot, self.thresholds.size))
        for b in range(n_boot):
            picked = rng.integers(0, len(members), len(members))
            rows = np.concatenate([members[c] for c in picked.tolist()])
            draws[b] = self.fpir_for_counts(self.counts[rows], size, model)
        return draws

    def unseen_upper(self, size: int, confidence: float = 0.95) -> float:
        """Upper bound of FPIR at ``size`` when no comparison exceeded the threshold.

        The exact (Clopper–Pearson) upper limit of a per-comparison rate with no
        event in ``searches × subjects`` comparisons, carried to ``size`` as
        ``1 - (1 - p_hi) ** size``; FPIR is concave in the per-comparison rate,
        so this also caps the per-probe model.
        """
        p_hi = clopper_pearson_interval(0, self.searches * self.subjects, confidence)[1]
        return float(1.0 - (1.0 - p_hi) ** size)

    def restricted(self, thresholds: npt.ArrayLike) -> ExceedanceTable:
        """The same table at a few of its thresholds (each must be one of them)."""
        wanted = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        cols = [int(np.argmin(np.abs(self.thresholds - t))) for t in wanted]
        if not np.allclose(self.thresholds[cols], wanted, atol=1e-9):
            raise KeyError("thresholds not in the table")
        return ExceedanceTable(self.thresholds[cols], self.counts[:, cols], self.subjects)

    def histograms(self) -> list[list[tuple[int, int]]]:
        """Per threshold, ``(exceedances, searches)`` pairs: the table in compact form."""
        out = []
        for column in self.counts.T:
            values, freq = np.unique(column, return_counts=True)
            out.append([(int(v), int(f)) for v, f in zip(values, freq, strict=True)])
        return out

    @classmethod
    def from_histograms(
        cls, thresholds: npt.ArrayLike, histograms: list[list[tuple[int, int]]], subjects: int
    ) -> ExceedanceTable:
        """Rebuild from :meth:`histograms` (search order is lost; every model ignores it)."""
        columns = [np.repeat([v for v, _ in h], [f for _, f in h]) for h in histograms]
        sizes = {c.size for c in columns}
        if len(sizes) > 1:
            raise ValueError("histograms disagree on the number of searches")
        counts = np.stack(columns, axis=1) if columns else np.zeros((0, 0), np.int64)
        return cls(np.asarray(thresholds, np.float64), counts.astype(np.int64), subjects)


@dataclass(frozen=True, slots=True)
class ScalingCheck:
    """Each model's prediction of the full-watchlist FPIR from a sub-watchlist.

    Attributes:
        from_size: subjects in the sub-watchlist the models were given.
        to_size: the full watchlist size, where FPIR was measured.
        measured: ``(T,)`` measured FPIR at ``to_size``.
        predicted: per model, ``(T,)`` its prediction at ``to_size`` (mean over draws).
        repeats: how many random sub-watchlists were drawn.
    """

    thresholds: FloatVector
    from_size: int
    to_size: int
    measured: FloatVector
    predicted: dict[ScalingModel, FloatVector]
    repeats: int = 1


def validate_scaling(
    scores: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    *,
    share: float = 0.25,
    repeats: int = 20,
    seed: int = 0,
) -> ScalingCheck:
    """Predict FPIR at the full size ``S`` from random ``share``-sized sub-watchlists.

    Each model's prediction is averaged over ``repeats`` random sub-watchlists:
    when false matches gather on a few subjects, one draw alone would mostly
    depend on whether it happened to include them.
    """
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    n_subjects = s.shape[1]
    part = max(1, round(share * n_subjects))
    rng = np.random.default_rng(seed)
    sums = {m: np.zeros(t.size) for m in ScalingModel}
    for _ in range(repeats):
        columns = np.sort(rng.choice(n_subjects, size=part, replace=False))
        sub = ExceedanceTable(t, exceedance_counts(s[:, columns], t), part)
        for m in ScalingModel:
            sums[m] += sub.fpir(n_subjects, m)
    full = ExceedanceTable(t, exceedance_counts(s, t), n_subjects)
    return ScalingCheck(
        thresholds=t,
        from_size=part,
        to_size=n_subjects,
        measured=full.fpir(n_subjects, ScalingModel.PER_PROBE),
        predicted={m: total / repeats for m, total in sums.items()},
        repeats=repeats,
    )
