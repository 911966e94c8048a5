"""Watchlist-size projections of FPIR: hand cases, the N = S identity, bounds, round trips."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.evaluation.scaling import (
    ExceedanceTable,
    ScalingModel,
    exceedance_counts,
    validate_scaling,
)


def test_exceedance_counts_include_ties() -> None:
    scores = [[0.1, 0.5, 0.7], [0.6, 0.6, 0.2]]
    assert exceedance_counts(scores, [0.5, 0.6]).tolist() == [[2, 1], [2, 2]]


def _table(counts: list[int], subjects: int) -> ExceedanceTable:
    return ExceedanceTable(np.array([0.5]), np.array(counts, np.int64)[:, None], subjects)


def test_per_probe_model_reproduces_the_measured_fpir_at_the_measured_size() -> None:
    table = _table([0, 0, 3, 1], subjects=4)
    assert table.fpir(4, ScalingModel.PER_PROBE)[0] == pytest.approx(0.5)


def test_per_probe_smaller_watchlist_is_hypergeometric() -> None:
    # One subject of four exceeds; a random pair of subjects misses it with 3/6.
    per_probe = ScalingModel.PER_PROBE
    assert _table([1], 4).fpir(2, per_probe)[0] == pytest.approx(1 - 3 / 6)
    # Two of four exceed: a pair avoids both only as the one remaining pair, 1/6.
    assert _table([2], 4).fpir(2, per_probe)[0] == pytest.approx(1 - 1 / 6)
    assert _table([4], 4).fpir(1, per_probe)[0] == pytest.approx(1.0)


def test_per_probe_larger_watchlist_extrapolates_each_search() -> None:
    assert _table([1], 4).fpir(8, ScalingModel.PER_PROBE)[0] == pytest.approx(1 - 0.75**8)


def test_independent_model_pools_comparisons() -> None:
    table = _table([0, 0, 3, 1], subjects=4)
    pooled = 4 / 16
    got = table.fpir(10, ScalingModel.INDEPENDENT)[0]
    assert got == pytest.approx(1 - (1 - pooled) ** 10)
    # FPIR is concave in the per-comparison rate: pooling never predicts less.
    assert got >= table.fpir(10, ScalingModel.PER_PROBE)[0]
    assert got >= table.fpir(10, ScalingModel.BETA_BINOMIAL)[0]


def test_size_must_be_positive_and_empty_tables_are_undefined() -> None:
    with pytest.raises(ValueError):
        _table([1], 4).fpir(0)
    empty = ExceedanceTable(np.array([0.5]), np.zeros((0, 1), np.int64), 4)
    assert np.isnan(empty.fpir(4)[0])


def test_interval_is_never_zero_wide_when_nothing_was_seen() -> None:
    table = _table([0] * 100, subjects=50)
    lo, hi = table.fpir_interval(1000, seed=0)
    assert lo[0] == 0.0
    assert hi[0] == pytest.approx(table.unseen_upper(1000))
    assert 0.0 < hi[0] < 1.0


def test_interval_contains_the_estimate() -> None:
    rng = np.random.default_rng(0)
    table = ExceedanceTable(np.array([0.5]), rng.poisson(0.2, (300, 1)), 100)
    lo, hi = table.fpir_interval(100, seed=0)
    assert lo[0] <= table.fpir(100)[0] <= hi[0]


def test_histograms_round_trip() -> None:
    rng = np.random.default_rng(1)
    counts = rng.poisson(0.5, (50, 3))
    table = ExceedanceTable(np.array([0.3, 0.4, 0.5]), counts, 20)
    back = ExceedanceTable.from_histograms(table.thresholds, table.histograms(), 20)
    for model in ScalingModel:
        assert back.fpir(500, model) == pytest.approx(table.fpir(500, model))


def test_restricted_keeps_chosen_columns_only() -> None:
    table = ExceedanceTable(np.array([0.3, 0.4]), np.array([[2, 1]]), 5)
    assert table.restricted([0.4]).counts.tolist() == [[1]]
    with pytest.raises(KeyError):
        table.restricted([0.35])


def test_validation_on_independent_scores() -> None:
    # Truly independent comparisons: the pooled models carry S/4 to S well, while
    # the per-probe model, which sees no risk in searches that matched nobody, falls short.
    rng = np.random.default_rng(2)
    scores = rng.normal(0.0, 0.1, (3000, 200))
    check = validate_scaling(scores, [0.25, 0.3], seed=0)
    assert check.from_size == 50 and check.to_size == 200
    for model in (ScalingModel.BETA_BINOMIAL, ScalingModel.INDEPENDENT):
        ratio = check.predicted[model] / check.measured
        assert np.all((ratio > 0.8) & (ratio < 1.25))
    assert np.all(check.predicted[ScalingModel.PER_PROBE] < 0.6 * check.measured)


@pytest.mark.parametrize("bimodal", [False, True])
def test_beta_binomial_follows_over_dispersed_searches(bimodal: bool) -> None:
    # Searches differ in how often they match: a Beta spread of rates (the model's own
    # assumption), or the harsher case of half never matching and half at 4%.
    rng = np.random.default_rng(3)
    q = np.r_[np.zeros(4000), np.full(4000, 0.04)] if bimodal else rng.beta(0.3, 60, 8000)
    full = rng.random((8000, 400)) < q[:, None]
    measured = full.any(axis=1).mean()
    sub = ExceedanceTable(np.array([0.5]), full[:, :100].sum(axis=1, keepdims=True), 100)
    beta = sub.fpir(400, ScalingModel.BETA_BINOMIAL)[0]
    independent = sub.fpir(400, ScalingModel.INDEPENDENT)[0]
    assert abs(beta - measured) < abs(independent - measured)
    if not bimodal:
        assert beta == pytest.approx(measured, rel=0.1)


def test_beta_binomial_of_one_subject_is_the_mean_rate() -> None:
    table = _table([0, 0, 3, 1], subjects=4)
    assert table.fpir(1, ScalingModel.BETA_BINOMIAL)[0] == pytest.approx(4 / 16)
