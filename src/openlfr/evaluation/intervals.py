"""Confidence intervals for error rates: Wilson, Clopper–Pearson, and bootstrap over identities.

Edge cases, the same for every function here:

- ``n == 0`` (no trials): the rate is undefined and the interval is ``(0.0, 1.0)``,
  "no information", never an error.
- ``k == 0``: Wilson and Clopper–Pearson give a lower bound of exactly 0 and a
  positive upper bound (about ``3.7 / n`` for Clopper–Pearson at 95%), which is
  the honest statement "no errors seen in ``n`` trials".
- Bootstrap over identities cannot see variability when every identity has the
  same outcome (all hits or no hit at all: the percentile interval collapses to a
  point). There it falls back to Clopper–Pearson with ``n`` = the number of
  identities, a conservative bound because it treats each identity as a single trial.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatVector = npt.NDArray[np.float64]


class IntervalMethod(StrEnum):
    """How a binomial rate's confidence interval is computed."""

    WILSON = "wilson"
    CLOPPER_PEARSON = "clopper-pearson"


def _check(k: int, n: int, confidence: float) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials."""
    _check(k, n, confidence)
    if n == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Rounding can push a bound a hair past the exact 0 or 1 at k = 0 or k = n.
    lo = 0.0 if k == 0 else max(0.0, float(centre - half))
    hi = 1.0 if k == n else min(1.0, float(centre + half))
    return lo, hi


def clopper_pearson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval: never narrower than the true coverage needs."""
    _check(k, n, confidence)
    if n == 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def binomial_interval(
    k: int, n: int, method: IntervalMethod, confidence: float = 0.95
) -> tuple[float, float]:
    """The interval of the chosen ``method`` for ``k`` of ``n``."""
    if method is IntervalMethod.WILSON:
        return wilson_interval(k, n, confidence)
    return clopper_pearson_interval(k, n, confidence)


def binomial_intervals(
    k: npt.ArrayLike, n: npt.ArrayLike, method: IntervalMethod, confidence: float = 0.95
) -> tuple[FloatVector, FloatVector]:
    """Element-wise :func:`binomial_interval` over arrays of counts (``n`` may be a scalar)."""
    ks = np.asarray(k, dtype=np.int64).reshape(-1)
    ns = np.broadcast_to(np.asarray(n, dtype=np.int64), ks.shape)
    lo = np.empty(ks.shape, np.float64)
    hi = np.empty(ks.shape, np.float64)
    for i, (ki, ni) in enumerate(zip(ks.tolist(), ns.tolist(), strict=True)):
        lo[i], hi[i] = binomial_interval(ki, ni, method, confidence)
    return lo, hi


def cluster_bootstrap_interval(
    hits: npt.ArrayLike,
    clusters: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[FloatVector, FloatVector]:
    """Percentile bootstrap interval of a rate whose samples are grouped by identity.

    Searches by the same person are not independent (one hard-to-match face
    fails on every photo), so whole identities are resampled with replacement and
    the rate recomputed as total hits over total searches of the resample.

    Args:
        hits: ``(n,)`` or ``(n, T)`` booleans; column ``t`` is one rate (e.g. one threshold).
        clusters: ``(n,)`` identity label of each sample.
        n_boot: bootstrap resamples.
        confidence: two-sided coverage.
        seed: makes the resampling reproducible.

    Returns:
        ``(lo, hi)``, each ``(T,)`` (``(1,)`` for a 1-D ``hits``). Columns where every
        identity has the same outcome fall back to Clopper–Pearson over identities.
    """
    h = np.asarray(hits, dtype=np.float64)
    if h.ndim == 1:
        h = h[:, None]
    labels = np.asarray(clusters)
    if labels.shape != (h.shape[0],):
        raise ValueError(f"clusters must be ({h.shape[0]},), got {labels.shape}")
    n_t = h.shape[1]
    if h.shape[0] == 0:
        return np.zeros(n_t), np.ones(n_t)
    _, inverse = np.unique(labels, return_inverse=True)
    n_clusters = int(inverse.max()) + 1
    per_cluster = np.zeros((n_clusters, n_t))
    np.add.at(per_cluster, inverse, h)
    sizes = np.bincount(inverse, minlength=n_clusters).astype(np.float64)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot)
    boot = (weights @ per_cluster) / (weights @ sizes)[:, None]
    alpha = 1.0 - confidence
    lo = np.quantile(boot, alpha / 2, axis=0)
    hi = np.quantile(boot, 1 - alpha / 2, axis=0)
    # A cluster "hits" when any of its samples do; all-or-nothing columns have no spread.
    cluster_hit = per_cluster > 0
    cluster_all = per_cluster == sizes[:, None]
    for t in range(n_t):
        if not cluster_hit[:, t].any() or cluster_all[:, t].all():
            k_clusters = int(cluster_hit[:, t].sum())
            lo[t], hi[t] = clopper_pearson_interval(k_clusters, n_clusters, confidence)
    return lo, hi
