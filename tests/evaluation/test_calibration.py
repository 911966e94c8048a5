"""Threshold calibration on synthetic scores: minimality, caution, unresolvable targets."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.evaluation.calibration import GRID_STEP, CalibrationRule, calibrate_threshold
from openlfr.evaluation.scaling import ExceedanceTable, ScalingModel, exceedance_counts


def _data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "nonmated_scores": rng.normal(0.05, 0.1, (1500, 60)),
        "nonmated_identities": np.arange(1500),
        "mate_scores": rng.normal(0.6, 0.1, 400),
        "mate_ranks": np.ones(400, int),
        "mated_identities": np.arange(400) // 2,
    }


def test_point_rule_picks_the_lowest_threshold_meeting_the_target() -> None:
    data = _data()
    result = calibrate_threshold(**data, target_fpir=0.02, watchlist_size=60, n_boot=100)
    assert result.resolved and result.rule is CalibrationRule.POINT
    t = result.threshold
    table = ExceedanceTable(
        np.array([t - GRID_STEP, t]),
        exceedance_counts(data["nonmated_scores"], [t - GRID_STEP, t]),
        60,
    )
    below, at = table.fpir(60, result.model)
    assert at <= 0.02 < below
    assert result.lo_threshold <= t <= result.hi_threshold
    assert result.fpir_lo <= result.fpir <= result.fpir_hi
    hits = data["mate_scores"] >= t
    assert result.tpir == pytest.approx(hits.mean())


def test_upper_rule_is_more_cautious_and_a_larger_watchlist_needs_a_higher_threshold() -> None:
    data = _data()
    point = calibrate_threshold(**data, target_fpir=0.02, watchlist_size=60, n_boot=100)
    upper = calibrate_threshold(
        **data, target_fpir=0.02, watchlist_size=60, rule=CalibrationRule.UPPER, n_boot=100
    )
    bigger = calibrate_threshold(**data, target_fpir=0.02, watchlist_size=600, n_boot=100)
    assert upper.threshold > point.threshold
    assert upper.fpir_hi <= 0.02
    assert bigger.threshold > point.threshold


def test_a_target_below_what_the_data_can_show_is_flagged() -> None:
    data = _data()
    for rule in CalibrationRule:
        result = calibrate_threshold(
            **data, target_fpir=1e-7, watchlist_size=10_000, rule=rule, n_boot=50
        )
        assert not result.resolved
        assert result.smallest_fpir > 1e-7


def test_independent_model_is_never_less_cautious() -> None:
    data = _data(1)
    beta = calibrate_threshold(**data, target_fpir=0.01, watchlist_size=500, n_boot=50)
    independent = calibrate_threshold(
        **data, target_fpir=0.01, watchlist_size=500, model=ScalingModel.INDEPENDENT, n_boot=50
    )
    assert independent.threshold >= beta.threshold


def test_bad_inputs_are_refused() -> None:
    data = _data()
    with pytest.raises(ValueError):
        calibrate_threshold(**data, target_fpir=0.0, watchlist_size=60)
    data["nonmated_scores"] = np.zeros((0, 60))
    with pytest.raises(ValueError):
        calibrate_threshold(**data, target_fpir=0.01, watchlist_size=60)
