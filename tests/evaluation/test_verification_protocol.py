"""1:1 pairs: lost pairs, the accuracy-maximising threshold, and fold-wise accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.evaluation.datasets import ImagePair
from openlfr.evaluation.verification import (
    PairScores,
    accuracy_at,
    best_accuracy_threshold,
    fold_accuracies,
    score_pairs,
)


def test_pairs_with_a_faceless_photo_are_lost_not_scored() -> None:
    e = [np.array([1.0, 0.0]), np.array([0.6, 0.8]), None]
    pairs = [ImagePair(0, 1, True, 0), ImagePair(0, 2, False, 0)]
    scored = score_pairs(pairs, e)
    assert scored.scores.tolist() == pytest.approx([0.6])
    assert scored.lost == (pairs[1],)


def test_best_threshold_by_hand() -> None:
    scores = np.array([0.8, 0.7, 0.3, 0.75])
    genuine = np.array([True, True, False, False])
    # Between 0.3 and 0.7 or between 0.75 and 0.8, 3 of 4 are right; the lower wins.
    assert best_accuracy_threshold(scores, genuine) == pytest.approx(0.5)
    assert accuracy_at(scores, genuine, 0.5) == pytest.approx(0.75)
    assert np.isnan(best_accuracy_threshold(np.zeros(0), np.zeros(0, bool)))
    assert np.isnan(accuracy_at(np.zeros(0), np.zeros(0, bool), 0.5))


def test_each_fold_is_judged_at_the_threshold_of_the_others() -> None:
    pairs = tuple(ImagePair(0, 0, g, f) for f, g in [(0, True), (0, False), (1, True), (1, False)])
    scores = PairScores(pairs, np.array([0.9, 0.2, 0.5, 0.4]), ())
    folds = fold_accuracies(scores)
    # Fold 0's threshold comes from fold 1 (0.45): fold 0 is right on both pairs.
    assert folds[0].threshold == pytest.approx(0.45) and folds[0].accuracy == 1.0
    # Fold 1's comes from fold 0 (0.55): its genuine 0.5 falls below it.
    assert folds[1].threshold == pytest.approx(0.55) and folds[1].accuracy == 0.5
