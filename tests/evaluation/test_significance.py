"""Differential tests: exact cases by hand, empty groups, clustering, Holm's correction."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from openlfr.evaluation.significance import (
    DifferentialMethod,
    differential_test,
    fisher_exact_p,
    holm_adjust,
)


def test_holm_by_hand() -> None:
    # Sorted: 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → raised to 0.06 (monotone).
    assert holm_adjust([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.6, 0.9]).tolist() == [1.0, 1.0]  # 0.6×2 capped at 1, then monotone
    assert holm_adjust([]).size == 0


def test_fisher_exact_extreme_table_by_hand() -> None:
    # 0/10 vs 10/10: only this table and its mirror are as extreme.
    assert fisher_exact_p(0, 10, 10, 10) == pytest.approx(2 / comb(20, 10))


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"), [(0, 0, 3, 10), (0, 10, 0, 12), (10, 10, 12, 12)]
)
def test_fisher_has_nothing_to_test_without_trials_or_variation(
    k1: int, n1: int, k2: int, n2: int
) -> None:
    assert fisher_exact_p(k1, n1, k2, n2) == 1.0


def _two_groups() -> tuple[np.ndarray, list[str], list[float]]:
    thresholds = [0.4, 0.5, 0.6]
    hits_a = np.array([[True, True, False]] * 10)
    hits_b = np.array([[False, False, False]] * 10)
    return np.vstack([hits_a, hits_b]), ["A"] * 10 + ["B"] * 10, thresholds


def test_two_independent_groups_use_fisher_and_report_the_onset() -> None:
    hits, groups, thresholds = _two_groups()
    result = differential_test(hits, groups, thresholds)
    assert result.method is DifferentialMethod.FISHER_EXACT
    assert result.omnibus_p[:2] == pytest.approx([2 / comb(20, 10)] * 2)
    assert result.omnibus_p[2] == 1.0  # nobody alerts at 0.6
    assert result.onset == 0.5
    assert result.pairwise_p[("A", "B")].tolist() == result.omnibus_p.tolist()


def test_unknown_and_single_groups_are_not_testable() -> None:
    hits, _, thresholds = _two_groups()
    result = differential_test(hits, ["A"] * 10 + [""] * 10, thresholds)
    assert result.method is DifferentialMethod.NOT_TESTABLE
    assert result.groups == ("A",)
    assert result.omnibus_p.tolist() == [1.0, 1.0, 1.0]
    assert result.onset is None


def test_clustered_searches_are_not_treated_as_independent() -> None:
    # 10 people per group, 5 photos each, a person's photos all agree:
    # 8 of 10 people hit in A, 2 of 10 in B. Person-level evidence only.
    clusters = np.repeat(np.arange(20), 5)
    person_hit = np.r_[np.arange(10) < 8, np.arange(10) < 2]
    hits = np.repeat(person_hit, 5)[:, None]
    groups = np.repeat(["A"] * 10 + ["B"] * 10, 5)
    clustered = differential_test(hits, groups, [0.5], clusters=clusters, seed=3)
    naive = fisher_exact_p(40, 50, 10, 50)
    assert clustered.method is DifferentialMethod.PERMUTATION_CHI2
    assert naive < 1e-6
    assert 1e-3 < clustered.omnibus_p[0] < 0.05
    again = differential_test(hits, groups, [0.5], clusters=clusters, seed=3)
    assert again.omnibus_p[0] == clustered.omnibus_p[0]


def test_three_groups_find_the_odd_one_out() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(["A", "B", "C"], 200)
    rate = np.repeat([0.05, 0.05, 0.30], 200)
    hits = (rng.random(600) < rate)[:, None]
    result = differential_test(hits, groups, [0.5], n_perm=999)
    assert result.method is DifferentialMethod.PERMUTATION_CHI2
    assert result.pairwise_method is DifferentialMethod.FISHER_EXACT
    assert result.omnibus_p[0] < 0.01
    assert result.pairwise_p[("A", "C")][0] < 0.01
    assert result.pairwise_p[("A", "B")][0] > 0.05


def test_shapes_must_agree() -> None:
    with pytest.raises(ValueError):
        differential_test(np.zeros((3, 2), bool), ["A", "B", "A"], [0.5])


def test_significant_ranges_show_isolated_blips() -> None:
    hits, groups, _ = _two_groups()
    # Columns: significant, not, significant, significant → two runs.
    wide = np.hstack([hits[:, :1], np.zeros((20, 1), bool), hits[:, :1], hits[:, :1]])
    result = differential_test(wide, groups, [0.3, 0.4, 0.5, 0.6])
    assert result.significant_ranges == [(0.3, 0.3), (0.5, 0.6)]
    assert result.onset == 0.6
