"""Write an evaluation's artefacts: ``metrics.json``, PNG plots, a self-contained HTML report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openlfr.evaluation.html import render_html
from openlfr.evaluation.plots import open_set_plots, verification_plots
from openlfr.evaluation.results import EvaluationReport, to_jsonable

METRICS_FILE = "metrics.json"
HTML_FILE = "report.html"


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """Where the artefacts of one report went."""

    folder: Path
    metrics: Path
    html: Path
    plots: tuple[Path, ...]


def metrics_document(report: EvaluationReport) -> dict[str, Any]:
    """The JSON document ``metrics.json`` holds (and ``--json`` prints)."""
    doc = to_jsonable(report)
    doc["format"] = "openlfr-evaluation/1"
    return dict(doc)


def render_plots(report: EvaluationReport) -> dict[str, bytes]:
    """Every figure of the report, by file name."""
    plots: dict[str, bytes] = {}
    if report.verification is not None:
        plots.update(verification_plots(report.verification, report.configured_verify_threshold))
    if report.open_set is not None:
        plots.update(
            open_set_plots(report.open_set, report.configured_threshold, report.report_thresholds)
        )
    return plots


def write_report(report: EvaluationReport, folder: Path) -> WrittenReport:
    """Write ``metrics.json``, the PNGs and ``report.html`` into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics = folder / METRICS_FILE
    metrics.write_text(json.dumps(metrics_document(report), ensure_ascii=False, indent=1) + "\n")
    plots = render_plots(report)
    paths = []
    for name, png in sorted(plots.items()):
        path = folder / name
        path.write_bytes(png)
        paths.append(path)
    html = folder / HTML_FILE
    html.write_text(render_html(report, plots, report.caveats, folder), encoding="utf-8")
    return WrittenReport(folder, metrics, html, tuple(paths))
