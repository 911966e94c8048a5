"""Error rates against hand-computed cases: ties at the threshold, empty inputs, ranks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openlfr.evaluation.rates import (
    count_at_or_above,
    det_curve,
    equal_error_rate,
    fmr,
    fnir,
    fnmr,
    fpir,
    mate_ranks,
    rank_one_rate,
    threshold_for_rate,
    tpir,
)


def test_a_score_equal_to_the_threshold_counts_as_a_match() -> None:
    assert count_at_or_above([0.1, 0.5, 0.5, 0.9], [0.5]).tolist() == [3]
    # FMR counts the tie as a false match; FNMR does not count it as a miss.
    assert fmr([0.2, 0.5, 0.7], 0.5)[0] == pytest.approx(2 / 3)
    assert fnmr([0.4, 0.5, 0.8], 0.5)[0] == pytest.approx(1 / 3)
    assert fpir([0.3, 0.6, 0.6], 0.6)[0] == pytest.approx(2 / 3)


def test_rates_are_vectorised_over_thresholds() -> None:
    got = fmr([0.1, 0.2, 0.3, 0.4], [0.0, 0.25, 0.4, 0.5])
    assert got.tolist() == [1.0, 0.5, 0.25, 0.0]


@pytest.mark.parametrize("rate", [fmr, fnmr, fpir])
def test_no_trials_gives_nan_not_zero(rate: object) -> None:
    assert callable(rate)
    assert all(math.isnan(v) for v in rate([], [0.3, 0.6]))


def test_tpir_needs_rank_one_and_the_threshold() -> None:
    scores, ranks = [0.9, 0.6, 0.55], [1, 2, 1]
    # 0.9 (rank 1) and 0.55 (rank 1, a tie with 0.55) are hits; 0.6 is at rank 2.
    assert tpir(scores, ranks, 0.55)[0] == pytest.approx(2 / 3)
    assert tpir(scores, ranks, 0.55, rank=2)[0] == pytest.approx(1.0)
    assert fnir(scores, ranks, 0.55)[0] == pytest.approx(1 / 3)
    assert math.isnan(tpir([], [], 0.5)[0])
    assert math.isnan(fnir([], [], 0.5)[0])


def test_tpir_rejects_mismatched_ranks() -> None:
    with pytest.raises(ValueError):
        tpir([0.5, 0.6], [1], 0.5)


def test_nan_scores_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        fmr([0.1, float("nan")], 0.5)


def test_rank_one_rate() -> None:
    assert rank_one_rate([1, 2, 1, 1]) == pytest.approx(0.75)
    assert math.isnan(rank_one_rate([]))


def test_mate_rank_ties_favour_the_mate() -> None:
    scores = np.array([[0.5, 0.5, 0.2], [0.1, 0.3, 0.2]])
    assert mate_ranks(scores, [0, 0]).tolist() == [1, 3]
    assert mate_ranks(scores, [2, 1]).tolist() == [3, 1]


def test_det_curve_by_hand() -> None:
    curve = det_curve(positive_scores=[0.8, 0.6], negative_scores=[0.4, 0.6])
    assert curve.thresholds.tolist() == [0.4, 0.6, 0.8]
    assert curve.false_positive.tolist() == [1.0, 0.5, 0.0]
    assert curve.false_negative.tolist() == [0.0, 0.0, 0.5]


def test_equal_error_rate_by_hand() -> None:
    # |FMR - FNMR| is 1, 0.5, 0.5 at 0.4, 0.6, 0.8: the lower tied threshold wins.
    eer, threshold = equal_error_rate([0.8, 0.6], [0.4, 0.6])
    assert threshold == pytest.approx(0.6)
    assert eer == pytest.approx(0.25)
    assert equal_error_rate([0.9], [0.1]) == (0.0, 0.9)
    assert all(math.isnan(v) for v in equal_error_rate([], [0.1]))


def test_threshold_for_rate_is_the_lowest_that_meets_the_target() -> None:
    impostors = [0.1, 0.2, 0.3, 0.4]
    t = threshold_for_rate(impostors, 0.25)
    assert fmr(impostors, t)[0] <= 0.25
    assert fmr(impostors, 0.3)[0] > 0.25  # anything at or below 0.3 admits two
    assert 0.3 < t < 0.3 + 1e-12
    assert threshold_for_rate(impostors, 1.0) == 0.1
    assert math.isnan(threshold_for_rate([], 0.1))
