"""Deployment planning from measured rates: hand arithmetic, unmeasured thresholds, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openlfr.evaluation.estimates import rate_curve
from openlfr.evaluation.planner import (
    MeasuredRates,
    PlannerInputError,
    load_rates,
    plan_deployment,
)
from openlfr.evaluation.scaling import ExceedanceTable, ScalingModel

GRID = np.array([0.4, 0.5, 0.6])


def _rates() -> MeasuredRates:
    # 1000 non-mated searches against 100 subjects; 20/10/0 searches exceed one subject.
    counts = np.zeros((1000, 3), np.int64)
    counts[:20, 0] = 1
    counts[:10, 1] = 1
    mated_hits = np.zeros((200, 3), bool)
    mated_hits[:180, 0] = True
    mated_hits[:170, 1] = True
    mated_hits[:150, 2] = True
    return MeasuredRates(
        "test", "model", rate_curve(mated_hits, GRID), ExceedanceTable(GRID, counts, 100)
    )


def test_expected_counts_by_hand() -> None:
    plan = plan_deployment(
        _rates(),
        watchlist_size=100,
        faces_per_hour=500,
        hours=4,
        threshold=0.5,
        subjects_passing=10,
        model=ScalingModel.PER_PROBE,
    )
    assert plan.searches == 2000
    assert plan.fpir == pytest.approx(0.01)  # measured size: 10 of 1000 searches alert
    assert plan.expected_false_alerts == pytest.approx(1990 * 0.01)
    assert plan.fpir_lo <= plan.fpir <= plan.fpir_hi
    assert plan.false_alerts_range[0] <= plan.expected_false_alerts <= plan.false_alerts_range[1]
    assert plan.tpir == pytest.approx(0.85)
    assert plan.expected_missed == pytest.approx(10 * 0.15)
    assert plan.probability_any_false_alert == pytest.approx(1 - np.exp(-19.9))
    assert plan.notes == ()


def test_zero_false_matches_still_give_a_positive_upper_range() -> None:
    plan = plan_deployment(
        _rates(), watchlist_size=100, faces_per_hour=100, hours=10, threshold=0.6
    )
    assert plan.expected_false_alerts == 0.0
    assert plan.expected_false_alerts_hi > 0.0 and plan.false_alerts_range[1] >= 1


def test_unmeasured_threshold_uses_the_one_below_and_larger_lists_are_extrapolated() -> None:
    plan = plan_deployment(
        _rates(), watchlist_size=5000, faces_per_hour=10, hours=1, threshold=0.55
    )
    assert plan.threshold == 0.5
    assert any("not measured" in n for n in plan.notes)
    assert any("extrapolated" in n for n in plan.notes)
    small = plan_deployment(_rates(), watchlist_size=100, faces_per_hour=10, hours=1, threshold=0.5)
    assert plan.fpir > small.fpir


@pytest.mark.parametrize(
    "kwargs",
    [
        {"watchlist_size": 0},
        {"hours": -1.0},
        {"subjects_passing": 1e6},
        {"threshold": 0.1},
    ],
)
def test_bad_plans_are_refused(kwargs: dict[str, float]) -> None:
    args: dict[str, float] = {
        "watchlist_size": 10,
        "faces_per_hour": 10,
        "hours": 1,
        "threshold": 0.5,
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        plan_deployment(_rates(), **args)  # type: ignore[arg-type]


def test_metrics_files_that_cannot_feed_a_plan(tmp_path: Path) -> None:
    with pytest.raises(PlannerInputError, match="does not exist"):
        load_rates(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PlannerInputError):
        load_rates(bad)
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(PlannerInputError, match="not an openlfr"):
        load_rates(bad)
    bad.write_text(json.dumps({"format": "openlfr-evaluation/1", "open_set": None}))
    with pytest.raises(PlannerInputError, match="no open-set"):
        load_rates(bad)
