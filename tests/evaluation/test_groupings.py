"""Groupings (single and joint columns) and per-group rates with their tests."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.evaluation.analysis import groupings, split_grouping
from openlfr.evaluation.estimates import (
    IDENTITY_BOOTSTRAP,
    Metric,
    at_or_above,
    combined_labels,
    group_rates,
    rate_curve,
)


def test_joint_groupings_and_missing_columns() -> None:
    values = {"sex": ["F", "M", ""], "ethnicity": ["A", "B", "B"]}
    got = groupings(["sex", "sex*ethnicity", "age_band", "ethnicity×sex"], values)
    assert got == [
        ("sex", ["F", "M", ""]),
        ("sex×ethnicity", ["F×A", "M×B", ""]),
        ("ethnicity×sex", ["A×F", "B×M", ""]),
    ]
    assert split_grouping(" sex * ethnicity ") == ["sex", "ethnicity"]
    assert combined_labels([["F", ""], ["A", "B"]]) == ["F×A", ""]


def test_at_or_above_counts_ties() -> None:
    assert at_or_above([0.5, 0.4], [0.4, 0.5]).tolist() == [[True, True], [True, False]]


def test_rate_curve_switches_to_identity_bootstrap_only_when_identities_repeat() -> None:
    hits = at_or_above([0.9, 0.2, 0.7, 0.6], [0.5, 0.8])
    independent = rate_curve(hits, [0.5, 0.8], clusters=["a", "b", "c", "d"])
    clustered = rate_curve(hits, [0.5, 0.8], clusters=["a", "a", "b", "b"])
    assert independent.interval == "clopper-pearson"
    assert clustered.interval == IDENTITY_BOOTSTRAP
    assert independent.k.tolist() == [3, 1] and independent.n == 4
    assert independent.at(0.8).rate == pytest.approx(0.25)
    with pytest.raises(KeyError):
        independent.at(0.65)
    empty = rate_curve(np.zeros((0, 2), bool), [0.5, 0.8])
    assert np.isnan(empty.rate).all() and empty.lo.tolist() == [0.0, 0.0]


def test_group_rates_leave_unknowns_out_and_test_the_rest() -> None:
    hits = np.array([[True], [True], [False], [False], [False], [True]])
    result = group_rates(Metric.FPIR, "sex", hits, ["F", "F", "M", "M", "", "M"], [0.5])
    assert result.unknown == 1
    assert {g: (c.k[0], c.n) for g, c in result.curves.items()} == {"F": (2, 2), "M": (1, 3)}
    assert result.test.groups == ("F", "M")
