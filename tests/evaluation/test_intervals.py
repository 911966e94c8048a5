"""Confidence intervals against closed forms, with zero counts, zero trials and clustering."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.evaluation.intervals import (
    IntervalMethod,
    binomial_interval,
    binomial_intervals,
    clopper_pearson_interval,
    cluster_bootstrap_interval,
    wilson_interval,
)

Z2 = 1.959963984540054**2


def test_wilson_with_no_events_has_the_closed_form_upper_bound() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(Z2 / (10 + Z2))


def test_wilson_is_symmetric_at_one_half() -> None:
    lo, hi = wilson_interval(5, 10)
    assert lo + hi == pytest.approx(1.0)


def test_clopper_pearson_extremes_have_closed_forms() -> None:
    assert clopper_pearson_interval(0, 10) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10)))
    assert clopper_pearson_interval(10, 10) == (pytest.approx(0.025 ** (1 / 10)), 1.0)


def test_clopper_pearson_is_never_narrower_than_wilson() -> None:
    for k in (1, 3, 10, 50):
        cp = clopper_pearson_interval(k, 100)
        w = wilson_interval(k, 100)
        assert cp[1] - cp[0] >= w[1] - w[0]


@pytest.mark.parametrize("method", list(IntervalMethod))
def test_zero_trials_mean_no_information(method: IntervalMethod) -> None:
    assert binomial_interval(0, 0, method) == (0.0, 1.0)


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        clopper_pearson_interval(-1, 2)


def test_binomial_intervals_broadcast_a_scalar_n() -> None:
    lo, hi = binomial_intervals([0, 5], 10, IntervalMethod.WILSON)
    assert lo[0] == 0.0 and lo[1] + hi[1] == pytest.approx(1.0)


def test_bootstrap_over_identities_widens_when_photos_of_a_person_agree() -> None:
    # 20 people, 5 photos each; a person's photos all hit or all miss.
    clusters = np.repeat(np.arange(20), 5)
    hits = np.repeat(np.arange(20) < 10, 5)
    lo, hi = cluster_bootstrap_interval(hits, clusters, seed=1)
    naive = wilson_interval(50, 100)
    assert (hi[0] - lo[0]) > 1.5 * (naive[1] - naive[0])
    again = cluster_bootstrap_interval(hits, clusters, seed=1)
    assert again[0][0] == lo[0] and again[1][0] == hi[0]


def test_bootstrap_falls_back_to_exact_bounds_over_identities_when_all_agree() -> None:
    clusters = np.repeat(np.arange(10), 3)
    lo, hi = cluster_bootstrap_interval(np.zeros(30, bool), clusters)
    assert (lo[0], hi[0]) == clopper_pearson_interval(0, 10)
    lo, hi = cluster_bootstrap_interval(np.ones(30, bool), clusters)
    assert (lo[0], hi[0]) == clopper_pearson_interval(10, 10)


def test_bootstrap_of_nothing_is_uninformative() -> None:
    lo, hi = cluster_bootstrap_interval(np.zeros((0, 2), bool), np.zeros(0))
    assert lo.tolist() == [0.0, 0.0] and hi.tolist() == [1.0, 1.0]
