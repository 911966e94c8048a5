"""A whole evaluation on small real subsets: consistency, caching, reports a person can open."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evaluation_subsets import Subset

from openlfr.evaluation.estimates import RateCurve
from openlfr.evaluation.planner import load_rates, plan_deployment
from openlfr.evaluation.report import write_report
from openlfr.evaluation.runner import EvaluationOptions, Evaluator, Protocol
from openlfr.services import Services

pytestmark = pytest.mark.realdata


def _check_curve(curve: RateCurve) -> None:
    rate = curve.rate
    assert np.all(np.diff(curve.k) <= 0)  # every rate here falls as the threshold rises
    assert np.all((curve.lo <= rate + 1e-12) & (rate <= curve.hi + 1e-12))


def test_lfw_pairs_and_open_set(services: Services, lfw_subset: Subset, tmp_path: Path) -> None:
    options = EvaluationOptions(
        dataset=lfw_subset.root,
        labels=lfw_subset.labels,
        pairs=lfw_subset.pairs,
        protocols=(Protocol.PAIRS, Protocol.OPEN_SET),
        groups=("sex",),
    )
    report = Evaluator(services).run(options)
    (data,) = report.datasets
    assert data.images == 32 and not data.problems
    assert data.acquired + data.no_face + data.unreadable == 32
    o = report.open_set
    assert o is not None
    assert o.watchlist_size == 8
    assert o.mated_searches + o.mated_unacquired == 16
    assert o.nonmated_searches + o.nonmated_unacquired == 8
    for curve in (o.tpir, o.fpir, o.misidentification):
        _check_curve(curve)
    assert [g.grouping for g in o.tpir_by_group] == ["sex"]
    assert set(o.tpir_by_group[0].curves) == {"F", "M"}
    assert sum(c.n for c in o.tpir_by_group[0].curves.values()) == o.mated_searches
    v = report.verification
    assert v is not None
    assert (v.pairs_listed, v.genuine + v.impostor + v.pairs_lost) == (12, 12)
    assert len(v.folds) == 2
    assert report.configured_threshold in report.report_thresholds

    # A second run reads every face from the cache and gives the same numbers.
    again = Evaluator(services).run(options)
    assert (again.cache_hits, again.cache_misses) == (32, 0)
    assert again.open_set is not None
    assert again.open_set.tpir.k.tolist() == o.tpir.k.tolist()
    assert again.open_set.fpir.hi.tolist() == o.fpir.hi.tolist()

    written = write_report(report, tmp_path / "out")
    html = written.html.read_text()
    assert "data:image/png;base64," in html and "src='http" not in html
    assert all(p.stat().st_size < 200_000 for p in written.plots)
    doc = json.loads(written.metrics.read_text())
    assert doc["format"] == "openlfr-evaluation/1"
    assert doc["open_set"]["tpir"]["n"] == o.mated_searches
    plan = plan_deployment(
        load_rates(written.metrics),
        watchlist_size=100,
        faces_per_hour=100,
        hours=2,
        threshold=report.configured_threshold,
        subjects_passing=2,
    )
    assert plan.searches == 200 and plan.expected_false_alerts_hi > 0


def test_utkface_groups_against_an_lfw_watchlist(
    services: Services, lfw_subset: Subset, utk_subset: Subset
) -> None:
    report = Evaluator(services).run(
        EvaluationOptions(
            dataset=lfw_subset.root,
            labels=lfw_subset.labels,
            nonmated_dataset=utk_subset.root,
            nonmated_labels=utk_subset.labels,
            groups=("sex", "ethnicity", "sex*ethnicity", "age_band"),
            exclude=(("age_band", "60+"),),
        )
    )
    _, utk = report.datasets
    excluded = [p for p in utk.problems if p.reason.startswith("excluded by request")]
    assert utk.images + len(excluded) == 20 and not utk.has_identities
    assert all(p.reason.endswith("age_band=60+") for p in excluded)
    assert [g.grouping for g in utk.detection_by_group] == [
        "sex",
        "ethnicity",
        "sex×ethnicity",
        "age_band",
    ]
    joint = utk.detection_by_group[2]
    assert sum(c.n for c in joint.curves.values()) == utk.images
    assert "60+" not in utk.detection_by_group[3].curves
    o = report.open_set
    assert o is not None and o.nonmated_source == "utkface-balanced"
    assert o.nonmated_searches + o.nonmated_unacquired == utk.images
    fpir_groups = {g.grouping: g for g in o.fpir_by_group}
    assert set(fpir_groups) == {"sex", "ethnicity", "sex×ethnicity", "age_band"}
    # LFW carries no ethnicity: the watchlist side is broken down by sex only.
    assert [g.grouping for g in o.tpir_by_group] == ["sex"]
    assert {t.grouping for t in o.false_alert_groups} == {"sex"}
    for g in o.fpir_by_group:
        assert sum(c.n for c in g.curves.values()) + g.unknown == o.nonmated_searches
    for c in o.alert_concentration:
        assert sum(n for _, n in c.top) <= c.alerts
        assert c.subjects_alerted <= o.watchlist_size
