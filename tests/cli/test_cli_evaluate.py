"""openlfr evaluate / calibrate / plan as a user runs them: outputs, files and exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

import openlfr.cli.evaluate as evaluate_cli
from openlfr.cli import app
from openlfr.config import Settings
from openlfr.evaluation.evidence import document_sha256, parse_document
from openlfr.services import Services

pytestmark = pytest.mark.realdata


@pytest.fixture
def lfw_small(shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    """lfw-dev folder and a labels file of 6 people with 2–3 photos and 6 with one."""
    root = shared_data / "lfw-dev"
    with (root / "labels.csv").open(newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    by_id: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_id[row["identity"]].append(row)
    multi = [n for n, r in by_id.items() if len(r) >= 2][:6]
    single = [n for n, r in by_id.items() if len(r) == 1][:6]
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows([r for n in multi for r in by_id[n][:3]] + [by_id[n][0] for n in single])
    return root, labels


@pytest.fixture
def runner(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Commands reuse the session's loaded models instead of loading their own."""
    monkeypatch.setattr(evaluate_cli, "services", lambda: services)
    return CliRunner()


def test_evaluate_writes_a_report_and_prints_json(
    runner: CliRunner, lfw_small: tuple[Path, Path], tmp_path: Path
) -> None:
    root, labels = lfw_small
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--dataset",
            str(root),
            "--labels",
            str(labels),
            "--groups",
            "sex",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["format"] == "openlfr-evaluation/1"
    assert doc["open_set"]["watchlist_size"] == 6
    assert {p.name for p in out.iterdir()} >= {"metrics.json", "report.html", "sweep_1toN.png"}
    assert (
        json.loads((out / "metrics.json").read_text())["open_set"]["tpir"]
        == doc["open_set"]["tpir"]
    )

    planned = runner.invoke(
        app,
        [
            "plan",
            "--metrics",
            str(out / "metrics.json"),
            "--watchlist-size",
            "500",
            "--faces-per-hour",
            "1200",
            "--hours",
            "8",
            "--subjects-passing",
            "2",
            "--json",
        ],
    )
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["searches"] == 9600 and plan["watchlist_size"] == 500
    assert plan["expected_false_alerts_lo"] <= plan["expected_false_alerts"]
    assert plan["expected_false_alerts"] <= plan["expected_false_alerts_hi"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "--out"),
        (["--out", "OUT", "--groups", "height"], 1, "group columns available"),
        (["--out", "OUT", "--exclude", "age"], 2, "COLUMN=VALUE"),
        (["--out", "OUT", "--thresholds", "0.5,x"], 2, "--thresholds"),
        (["--out", "OUT", "--protocol", "pairs"], 1, "--pairs"),
    ],
)
def test_evaluate_refuses_bad_requests(
    runner: CliRunner,
    lfw_small: tuple[Path, Path],
    tmp_path: Path,
    args: list[str],
    code: int,
    message: str,
) -> None:
    root, labels = lfw_small
    args = [str(tmp_path / "o") if a == "OUT" else a for a in args]
    result = runner.invoke(
        app, ["evaluate", "--dataset", str(root), "--labels", str(labels), *args]
    )
    assert result.exit_code == code
    assert message in result.stderr


def test_calibrate_writes_the_threshold_the_settings_then_read(
    runner: CliRunner, lfw_small: tuple[Path, Path], isolated_home: Path
) -> None:
    root, labels = lfw_small
    base = ["calibrate", "--dataset", str(root), "--labels", str(labels)]
    dry = runner.invoke(app, [*base, "--target-fpir", "1/6", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["written_to"] is None
    assert not (isolated_home / "config.toml").exists()

    record = isolated_home / "calibration.json"
    done = runner.invoke(app, [*base, "--target-fpir", "1/6", "--json", "--record", str(record)])
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["written_to"]) == isolated_home / "config.toml"
    assert Settings().matching.threshold == pytest.approx(round(result["threshold"], 4))
    # The calibration document a deployment cites: this model, this threshold, its hash.
    document = json.loads(record.read_text())
    evidence = parse_document(document)
    assert evidence.model_id == "sface-2021dec+flip" and evidence.dataset == root.name
    assert evidence.threshold == pytest.approx(result["threshold"], abs=1e-6)
    assert result["record_sha256"] == document_sha256(document) == evidence.sha256

    impossible = runner.invoke(app, [*base, "--target-fpir", "1/6000", "--watchlist-size", "10000"])
    assert impossible.exit_code == 1
    assert "cannot show FPIR" in impossible.stderr
    assert Settings().matching.threshold == pytest.approx(round(result["threshold"], 4))

    assert runner.invoke(app, [*base, "--target-fpir", "six"]).exit_code == 2


def test_plan_refuses_a_missing_metrics_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "--metrics",
            str(tmp_path / "none.json"),
            "--watchlist-size",
            "10",
            "--faces-per-hour",
            "10",
            "--hours",
            "1",
        ],
    )
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_json_is_the_only_thing_on_stdout(lfw_small: tuple[Path, Path]) -> None:
    root, labels = lfw_small
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openlfr",
            "evaluate",
            "--dataset",
            str(root),
            "--labels",
            str(labels),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["open_set"]["watchlist_size"] == 6
