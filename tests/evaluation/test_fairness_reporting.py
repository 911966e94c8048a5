"""Fairness reporting that reads right: every differential stated, onsets with support,
small groups shown as untested, colours that do not collide."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb

import openlfr.evaluation.plots as plots
from openlfr.evaluation.estimates import Metric, group_rates
from openlfr.evaluation.html import _differential_sentence
from openlfr.evaluation.significance import MIN_SUPPORT, differential_test


def _group(k_per_threshold: list[int], n: int) -> np.ndarray:
    """``n`` searches of one group, ``k`` of them hits at each threshold."""
    out = np.zeros((n, len(k_per_threshold)), bool)
    for j, k in enumerate(k_per_threshold):
        out[:k, j] = True
    return out


def test_the_onset_never_rests_on_a_handful_of_events() -> None:
    # Thresholds 0.5, 0.6, 0.7: 30 vs 8 alerts, 14 vs 2, then 6 vs 0 (p ≈ 0.03 on 6 alerts).
    a = _group([30, 14, 6], 200)
    b = _group([8, 2, 0], 200)
    result = differential_test(np.vstack([a, b]), ["A"] * 200 + ["B"] * 200, [0.5, 0.6, 0.7])
    assert result.significant.tolist() == [True, True, True]
    assert result.support.tolist() == [38, 16, 6]
    assert result.onset == 0.6  # not 0.7: six alerts cannot carry the claim
    assert result.range_support() == [(0.5, 0.7, 6)]


def test_the_summary_states_a_tpir_differential_with_its_size() -> None:
    # TPIR by sex: women 77% of 400, men 88% of 800 found, at one threshold.
    hits = np.vstack([_group([308], 400), _group([704], 800)])
    g = group_rates(Metric.TPIR, "sex", hits, ["F"] * 400 + ["M"] * 800, [0.55], min_group=30)
    text = _differential_sentence(g, 0.55)
    assert "<b>TPIR by sex</b>" in text and "statistically significant difference</b>" in text
    assert "TPIR for F is 11.0 points lower than for M" in text
    assert "F 77.0% (308 of 400), M 88.0% (704 of 800)" in text
    assert f"at least {MIN_SUPPORT}" in text


def test_a_range_on_too_few_events_is_called_so() -> None:
    a = _group([30, 6], 200)
    b = _group([8, 0], 200)
    g = group_rates(Metric.FPIR, "sex", np.vstack([a, b]), ["F"] * 200 + ["M"] * 200, [0.5, 0.6])
    text = _differential_sentence(g, 0.6)
    assert "as few as 6 alerts: too few to rest a claim on" in text
    assert "is 0.50." in text  # the supported onset


def test_groups_too_small_to_test_are_shown_as_such_and_not_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hits = np.vstack([_group([20], 100), _group([5], 100), _group([3], 4)])
    labels = ["A"] * 100 + ["B"] * 100 + ["C"] * 4
    g = group_rates(Metric.FPIR, "ethnicity", hits, labels, [0.5], min_group=30)
    assert g.untested == ("C",) and set(g.curves) == {"A", "B", "C"}
    assert g.test.groups == ("A", "B")  # C's 3 of 4 takes no part in the test
    assert "Too small to test" in _differential_sentence(g, 0.5) and "C (n=4)" in (
        _differential_sentence(g, 0.5)
    )
    drawn: list[str] = []
    monkeypatch.setattr(plots, "_band", lambda ax, curve, label, colour, log: drawn.append(label))
    plots.group_plot(g, 0.5, log=True)
    assert drawn == ["A (n=100)", "B (n=100)"]


def test_significance_shading_collides_with_no_group_colour() -> None:
    shades = [to_rgb(plots._SIGNIFICANT), to_rgb(plots._THIN)]
    for colour in plots._GROUP_COLOURS:
        for shade in shades:
            assert np.abs(np.subtract(to_rgb(colour), shade)).sum() > 0.3, colour
    assert len(set(plots._GROUP_COLOURS)) == len(plots._GROUP_COLOURS)
