"""The transparency report: period selection, totals, charts, and the equitability headline read
from evaluation reports (synthetic files for the edge cases, the repository's own for real)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openlfr.api.testing import Api, alert_input, live_scenario, probe_crop
from openlfr.demokit import KIT_DIR
from openlfr.reports import charts
from openlfr.reports.equitability import (
    EvaluationFileError,
    latest_evaluation,
    metrics_files,
    read_headline,
)
from openlfr.reports.record import CategoryOutcomes, PublishedRecord
from openlfr.reports.transparency import build_report, outcomes_of, report_page, totals_of
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

REPO_EVALUATIONS = Path(__file__).resolve().parents[2] / "docs" / "evaluation"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _record(day: date, **values: Any) -> PublishedRecord:
    base: dict[str, Any] = {
        "deployment_id": 1,
        "name": "d",
        "status": "final",
        "deployment_date": day,
        "started_at": datetime.combine(day, datetime.min.time(), UTC),
        "ended_at": None,
        "location": "High Street",
        "area": "Northtown",
        "use_case": "warrants",
        "legal_basis": "b",
        "authorised_by": "user:o",
        "authorised_at": None,
        "closed_at": None,
        "periods_of_use": 1,
        "duration_hours": 2.0,
        "watchlist_size": 100,
        "threshold": 0.55,
        "thresholds_used": [0.55],
        "faces_seen": 1000,
        "alerts": 3,
        "true_alerts": 2,
        "false_alerts": 1,
        "false_alerts_confirmed": 0,
        "false_alerts_unconfirmed": 1,
        "not_adjudicated": 0,
        "engagements": 2,
        "arrests": 1,
        "outcomes_by_category": [
            CategoryOutcomes(category="wanted_on_warrant", alerts=3, arrested=1, advised=1,
                             false_unconfirmed=1)
        ],
        "false_alert_rate_per_face": 0.001,
        "false_alert_rate_per_alert": 1 / 3,
        "audit_head_seq": 1,
        "audit_head_hash": "0" * 64,
        "generated_at": NOW,
    }  # fmt: skip
    base.update(values)
    return PublishedRecord(**base)


def test_totals_are_sums_and_rates_come_from_the_sums() -> None:
    a = _record(date(2026, 1, 5))
    b = _record(date(2026, 1, 9), faces_seen=None, alerts=1, false_alerts=1, true_alerts=0)
    t = totals_of([a, b])
    assert (t.deployments, t.faces_seen, t.faces_unrecorded, t.alerts) == (2, 1000, 1, 4)
    assert t.false_alert_rate_per_face == pytest.approx(2 / 1000)
    assert t.false_alert_rate_per_alert == pytest.approx(2 / 4)
    empty = totals_of([])
    assert empty.false_alert_rate_per_face is None and empty.false_alert_rate_per_alert is None
    (row,) = outcomes_of([a, a])
    assert (row.alerts, row.arrested, row.false_unconfirmed) == (6, 2, 2)
    assert outcomes_of([]) == ()


@pytest.mark.parametrize(
    ("first", "last", "count", "label"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), 1, "01 Jan"),
        (date(2026, 1, 1), date(2026, 1, 31), 31, "01 Jan"),
        (date(2026, 1, 1), date(2026, 3, 31), 14, "w/c 29 Dec"),
        (date(2026, 1, 1), date(2026, 12, 31), 12, "Jan 2026"),
    ],
)
def test_intervals_follow_the_length_of_the_period(
    first: date, last: date, count: int, label: str
) -> None:
    records = [_record(date(2026, 1, 9)), _record(date(2026, 1, 1))]
    series = charts.buckets(records, first, last)
    assert len(series) == count and series[0].label == label
    assert sum(len(b.records) for b in series) == sum(
        first <= r.deployment_date <= last for r in records if r.deployment_date
    )


@pytest.mark.parametrize("records", [[], [_record(date(2026, 1, 9))]])
def test_every_chart_is_a_png(records: list[PublishedRecord]) -> None:
    series = charts.buckets(records, date(2026, 1, 1), date(2026, 1, 31))
    pictures = [
        charts.deployments_chart(series),
        charts.faces_chart(series),
        charts.alerts_chart(series),
        charts.false_rate_chart(series),
        charts.outcomes_chart(outcomes_of(records)),
    ]
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 2000 for p in pictures)


def _curve(n: int, ks: list[int]) -> dict[str, Any]:
    return {
        "thresholds": [0.5, 0.55, 0.6],
        "k": ks,
        "n": n,
        "rate": [k / n for k in ks],
        "lo": [0.0, 0.0, 0.0],
        "hi": [1.0, 1.0, 1.0],
        "interval": "clopper-pearson",
    }


def _metrics(created: str, *, p: float, groups: bool = True) -> dict[str, Any]:
    block = {
        "metric": "FPIR",
        "grouping": "sex",
        "groups": {"F": _curve(100, [4, 2, 1]), "M": _curve(100, [3, 1, 0])},
        "test": {
            "alpha": 0.05,
            "groups": ["F", "M"],
            "method": "fisher-exact",
            "omnibus_p": [0.01, p, 0.9],
            "thresholds": [0.5, 0.55, 0.6],
            "differential_onset": 0.5,
        },
    }
    return {
        "format": "openlfr-evaluation/1",
        "created_at": created,
        "model": {"model_id": "sface-2021dec"},
        "datasets": [{"name": "lfw-dev"}],
        "open_set": {
            "watchlist_size": 801,
            "tpir": _curve(200, [190, 180, 170]),
            "fpir": _curve(200, [6, 3, 1]),
            "fpir_by_group": [block] if groups else [],
            "tpir_by_group": [],
        },
    }


def _write(folder: Path, name: str, doc: dict[str, Any] | str) -> Path:
    path = folder / name / "metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_the_latest_evaluation_with_groups_gives_the_headline(tmp_path: Path) -> None:
    older = _write(tmp_path, "a", _metrics("2026-01-01T00:00:00+00:00", p=0.2))
    newer = _write(tmp_path, "b", _metrics("2026-02-01T00:00:00+00:00", p=0.01))
    _write(tmp_path, "c", _metrics("2026-03-01T00:00:00+00:00", p=0.5, groups=False))
    _write(tmp_path, "d", "{not json")
    _write(tmp_path, "e", {"format": "something-else/1"})
    assert len(metrics_files([tmp_path])) == 5
    assert latest_evaluation([tmp_path]) == newer
    assert latest_evaluation([older]) == older
    assert latest_evaluation([tmp_path / "missing"]) is None
    headline = read_headline(newer, 0.56)
    assert headline.threshold == 0.55 and headline.requested_threshold == 0.56
    (finding,) = headline.findings
    assert finding.significant and headline.any_significant
    assert "a statistically significant difference between F, M" in finding.sentence(0.55)
    assert "highest threshold with a significant difference is 0.50" in finding.sentence(0.55)
    assert headline.fpir is not None and headline.fpir.k == 3
    calm = read_headline(older, 0.55)
    assert not calm.any_significant
    assert "no statistically significant difference" in calm.findings[0].sentence(0.55)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable metrics file"),
        ({"format": "other"}, "not an openlfr evaluation"),
        (_metrics("2026-01-01", p=0.1, groups=False), "no open-set demographic analysis"),
        (
            {**_metrics("2026-01-01", p=0.1), "open_set": {"fpir_by_group": [{"x": 1}]}},
            "malformed",
        ),
    ],
)
def test_unusable_evaluations_are_refused_clearly(
    tmp_path: Path, content: dict[str, Any] | str, message: str
) -> None:
    path = _write(tmp_path, "x", content)
    with pytest.raises(EvaluationFileError, match=message):
        read_headline(path, 0.55)
    with pytest.raises(EvaluationFileError, match="does not exist"):
        read_headline(tmp_path / "nothing.json", 0.55)


def test_the_repository_evaluation_gives_a_headline() -> None:
    latest = latest_evaluation([REPO_EVALUATIONS])
    if latest is None:
        pytest.skip(f"no evaluation report with groups under {REPO_EVALUATIONS}")
    headline = read_headline(latest, 0.55)
    assert headline.findings and headline.tpir is not None and headline.fpir is not None
    assert {"sex"} <= {f.grouping for f in headline.findings}
    assert all(0.0 <= f.p <= 1.0 for f in headline.findings)


def test_report_selects_the_period_and_embeds_everything(
    api: Api, pack: ModelPack, tmp_path: Path
) -> None:
    crop = probe_crop(pack, KIT_DIR / "images" / "london_002_smiling.jpg")
    clock = api.plane.clock
    ids = []
    for reference in ("WL-A", "WL-B"):
        scene = live_scenario(
            api,
            [KIT_DIR / "images" / "london_002_neutral.jpg"],
            reference=reference,
            threshold=0.55,  # the threshold the evaluation below tested
        )
        api.launcher.sessions[scene.deployment_id].on_alert(
            alert_input(
                scene.deployment_id, "cam-1", scene.subject_id, crop, captured_at=clock.now()
            )
        )
        api.call(
            "POST", f"/deployments/{scene.deployment_id}/stop", Role.OPERATOR, json={"reason": ""}
        )
        ids.append(scene.deployment_id)
        clock.advance(days=40)  # type: ignore[attr-defined]
    first_day = (clock.now() - timedelta(days=80)).date()
    evaluation = _write(tmp_path, "eval", _metrics("2026-01-01T00:00:00+00:00", p=0.3))
    with api.plane.database.session() as db:
        report = build_report(
            db, first_day, first_day + timedelta(days=10), now=clock.now(),
            evaluations=[tmp_path], default_threshold=0.55,
        )  # fmt: skip
        nothing = build_report(
            db, date(2020, 1, 1), date(2020, 1, 31), now=clock.now(),
            evaluations=[], default_threshold=0.55,
        )  # fmt: skip
        with pytest.raises(ValueError, match="ends before"):
            build_report(
                db, date(2020, 2, 1), date(2020, 1, 1), now=clock.now(),
                evaluations=[], default_threshold=0.55,
            )  # fmt: skip
    assert [r.deployment_id for r in report.records] == ids[:1]
    assert report.totals.alerts == 1 and report.totals.not_adjudicated == 1
    assert report.equitability is not None and report.equitability.source == str(evaluation)
    page = report_page(report)
    assert page.count("data:image/png;base64,") == 5
    assert "no statistically significant difference" in page and "<script" not in page
    assert nothing.records == () and nothing.equitability is None
    empty_page = report_page(nothing)
    assert "No evaluation with a demographic analysis was found" in empty_page
    assert "No deployment went live in this period." in empty_page
