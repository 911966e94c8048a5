"""CLI commands: measure accuracy and differentials, choose a threshold, plan a deployment."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from openlfr.cli.common import emit_json, fail_usage, reject, services, stderr, stdout
from openlfr.cli.evaluate_args import (
    ALIASES,
    DATASET,
    DEFAULT_THRESHOLDS,
    DEFAULT_THRESHOLDS_SHOWN,
    EXCLUDE,
    FACE,
    JSON,
    LABELS,
    NO_CACHE,
    NONMATED,
    NONMATED_LABELS,
    NONMATED_PAD,
    PAD,
    REFERENCES,
    REVIEWED,
    SEED,
    SHARE,
    evaluation_options,
    parse_exclusions,
    parse_floats,
    parse_rate,
    parse_sizes,
    progress_bars,
)
from openlfr.config.writer import ConfigWriteError, set_matching_threshold
from openlfr.evaluation.calibration import Calibration, CalibrationRule, calibrate_threshold
from openlfr.evaluation.datasets import DatasetError
from openlfr.evaluation.evidence import calibration_document, document_sha256
from openlfr.evaluation.faces import FaceRule
from openlfr.evaluation.html import one_in, pct, refusals_line
from openlfr.evaluation.intervals import IntervalMethod
from openlfr.evaluation.planner import PlannerInputError, load_rates, plan_deployment
from openlfr.evaluation.report import metrics_document, write_report
from openlfr.evaluation.results import EvaluationReport, to_jsonable
from openlfr.evaluation.runner import (
    Evaluator,
    Protocol,
    openlfr_version,
)
from openlfr.evaluation.scaling import DEFAULT_MODEL, ScalingModel
from openlfr.services import Services


def evaluate(
    dataset: Path = DATASET,
    labels: Path | None = LABELS,
    pairs: Path | None = typer.Option(None, "--pairs", dir_okay=False, help="LFW-style pairs.txt."),
    videos: Path | None = typer.Option(
        None,
        "--videos",
        dir_okay=False,
        help="CSV of clips (file, identity: who appears, ;-separated) for the video protocol; "
        "its watchlist is every photo in --dataset.",
    ),
    video_fps: float = typer.Option(
        2.0, "--video-fps", min=0.1, max=60.0, help="Frames sampled per second of video."
    ),
    protocol: list[Protocol] | None = typer.Option(
        None,
        "--protocol",
        help="pairs, open-set and/or video (repeatable; default: open-set, plus pairs when "
        "--pairs is given; video alone when --videos is given).",
    ),
    groups: str = typer.Option(
        "",
        "--groups",
        help="Groupings to break results down by, comma-separated: columns (sex, ethnicity) "
        "and joint columns (sex*ethnicity).",
    ),
    exclude: list[str] | None = EXCLUDE,
    out: Path | None = typer.Option(None, "--out", file_okay=False, help="Folder for the report."),
    nonmated_dataset: Path | None = NONMATED,
    nonmated_labels: Path | None = NONMATED_LABELS,
    references: int = REFERENCES,
    nonmated_share: float = SHARE,
    seed: int = SEED,
    thresholds: str = typer.Option(
        DEFAULT_THRESHOLDS,
        "--thresholds",
        help="Thresholds to tabulate, comma-separated (the configured one is always added).",
        show_default=DEFAULT_THRESHOLDS_SHOWN,
    ),
    watchlist_sizes: str = typer.Option(
        "1000,10000", "--watchlist-sizes", help="Watchlist sizes to project FPIR to."
    ),
    face: FaceRule = FACE,
    pad: float = PAD,
    nonmated_pad: float = NONMATED_PAD,
    interval: IntervalMethod = typer.Option(
        IntervalMethod.CLOPPER_PEARSON,
        "--interval",
        help="Binomial interval for independent searches.",
    ),
    alpha: float = typer.Option(0.05, "--alpha", min=0.0001, max=0.5, help="Significance level."),
    no_cache: bool = NO_CACHE,
    aliases: Path | None = ALIASES,
    reviewed: Path | None = REVIEWED,
    review_count: int = typer.Option(
        40,
        "--review-count",
        min=0,
        max=1000,
        help="Highest cross-set scores the report lists for review, photos side by side.",
    ),
    json_out: bool = JSON,
) -> None:
    """Measure accuracy and demographic differentials on labelled photos; write a report."""
    if out is None and not json_out:
        fail_usage("give --out DIR for the report, --json for the numbers, or both")
    if protocol:
        chosen = tuple(dict.fromkeys(protocol))
    elif videos is not None:
        chosen = (Protocol.VIDEO,)
    else:
        chosen = (Protocol.OPEN_SET, Protocol.PAIRS) if pairs else (Protocol.OPEN_SET,)
    report_t = parse_floats(thresholds, "--thresholds")
    if any(not -1.0 <= t <= 1.0 for t in report_t):
        fail_usage("--thresholds must lie between -1 and 1")
    options = replace(
        evaluation_options(
            dataset,
            labels,
            nonmated_dataset,
            nonmated_labels,
            references,
            nonmated_share,
            seed,
            face,
            pad,
            nonmated_pad,
            no_cache,
            aliases,
            reviewed=reviewed,
        ),
        review_count=review_count,
        pairs=pairs,
        protocols=chosen,
        videos=videos,
        video_fps=video_fps,
        groups=tuple(g.strip() for g in groups.split(",") if g.strip()),
        exclude=parse_exclusions(exclude or []),
        thresholds=report_t,
        interval=interval,
        alpha=alpha,
        watchlist_sizes=parse_sizes(watchlist_sizes, "--watchlist-sizes"),
    )
    svc = services()
    with progress_bars(enabled=True) as factory:
        try:
            report = Evaluator(svc, factory).run(options)
        except DatasetError as exc:
            reject(str(exc))
    for d in report.datasets:
        # Always said, on stderr (stdout may carry --json): a refused image is easy to miss.
        stderr.print(f"{d.name}: {refusals_line(d)}", highlight=False)
    if out is not None:
        written = write_report(report, out)
        stderr.print(
            f"report written to {written.html} ({len(written.plots)} plots, {written.metrics.name})"
        )
    if json_out:
        emit_json(metrics_document(report))
        return
    _print_summary(report.configured_threshold, report)


def _print_summary(t: float, report: EvaluationReport) -> None:
    table = Table("threshold", "TPIR", "FPIR", "FPIR 1 in", title="1:N open-set")
    o = report.open_set
    if o is not None:
        for threshold in report.report_thresholds:
            tp, fp = o.tpir.at(threshold), o.fpir.at(threshold)
            mark = " *" if threshold == t else ""
            table.add_row(f"{threshold:.2f}{mark}", pct(tp.rate), pct(fp.rate, 2), one_in(fp.rate))
        stdout.print(table)
    if report.video is not None:
        true_alerts, missed, false_alerts = report.video.totals()
        i = int(abs(report.video.thresholds - t).argmin())
        stdout.print(
            f"video: {len(report.video.clips)} clip(s); at {t:.2f}: {true_alerts[i]} true "
            f"alert(s), {missed[i]} missed, {false_alerts[i]} false alert(s)"
        )
    v = report.verification
    if v is not None:
        stdout.print(
            f"1:1: accuracy {pct(v.mean_accuracy, 2)} ± {pct(v.sd_accuracy, 2)}, "
            f"EER {pct(v.eer, 2)}"
        )
    stdout.print(f"took {report.timings.get('total_s', 0):.0f} s (* = configured threshold)")


def calibrate(
    dataset: Path = DATASET,
    labels: Path | None = LABELS,
    target_fpir: str = typer.Option(..., "--target-fpir", help="Target FPIR, e.g. 1/6000."),
    watchlist_size: int | None = typer.Option(
        None,
        "--watchlist-size",
        min=1,
        help="Watchlist size the target applies to (default: measured).",
    ),
    rule: CalibrationRule = typer.Option(
        CalibrationRule.POINT,
        "--rule",
        help="point: chosen on the data as measured; upper: still meets the target in 97.5% of "
        "bootstrap resamples.",
    ),
    model: ScalingModel = typer.Option(DEFAULT_MODEL, "--model", help="FPIR scaling model."),
    nonmated_dataset: Path | None = NONMATED,
    nonmated_labels: Path | None = NONMATED_LABELS,
    references: int = REFERENCES,
    nonmated_share: float = SHARE,
    seed: int = SEED,
    face: FaceRule = FACE,
    pad: float = PAD,
    nonmated_pad: float = NONMATED_PAD,
    no_cache: bool = NO_CACHE,
    aliases: Path | None = ALIASES,
    reviewed: Path | None = REVIEWED,
    exclude: list[str] | None = EXCLUDE,
    dry_run: bool = typer.Option(False, "--dry-run", help="Report the threshold; write nothing."),
    allow_unresolved: bool = typer.Option(
        False,
        "--allow-unresolved",
        help="Write the threshold even when the data cannot show FPIR as low as the target.",
    ),
    config: Path | None = typer.Option(
        None, "--config", dir_okay=False, help="TOML file to write."
    ),
    record: Path | None = typer.Option(
        None,
        "--record",
        dir_okay=False,
        help="Also write the calibration document (numbers only) that a deployment cites as "
        "the evidence for its threshold (POST /api/v1/calibrations).",
    ),
    json_out: bool = JSON,
) -> None:
    """Choose the threshold that meets a target FPIR and write it to the configuration file."""
    target = parse_rate(target_fpir)
    options = evaluation_options(
        dataset,
        labels,
        nonmated_dataset,
        nonmated_labels,
        references,
        nonmated_share,
        seed,
        face,
        pad,
        nonmated_pad,
        no_cache,
        aliases,
        exclude,
        reviewed,
    )
    svc = services()
    with progress_bars(enabled=True) as factory:
        evaluator = Evaluator(svc, factory)
        try:
            main, other = evaluator.load(options)
            inputs = evaluator.open_set_inputs(main, other, options)
        except DatasetError as exc:
            reject(str(exc))
    s = inputs.scores
    if s.nonmated.size == 0:
        reject("no non-mated search had a face: nothing to calibrate on")
    size = watchlist_size or len(s.subjects)
    result = calibrate_threshold(
        s.nonmated_scores,
        [inputs.nonmated_identities[i] for i in s.nonmated.tolist()],
        s.mate_scores,
        s.mate_ranks,
        [inputs.mated_identities[i] for i in s.mated.tolist()],
        target_fpir=target,
        watchlist_size=size,
        model=model,
        rule=rule,
        seed=seed,
    )
    written: Path | None = None
    refused = ""
    if not math.isfinite(result.threshold):
        refused = (
            f"no threshold can be shown to meet FPIR {target:.3g} at {size:,} subjects with this "
            f"data (the lowest it can show is {result.smallest_fpir:.3g}); add non-mated searches"
        )
    elif not result.resolved and not allow_unresolved:
        refused = (
            f"the data cannot show FPIR as low as {target:.3g} at {size:,} subjects "
            f"(the smallest it can show is {result.smallest_fpir:.3g}); add non-mated searches, "
            "or pass --allow-unresolved to write the lower bound anyway"
        )
    elif not dry_run:
        note = (
            f"calibrated {time.strftime('%Y-%m-%d')}: FPIR {target:.3g} at {size:,} subjects, "
            f"rule {rule.value}, {svc.pack.model_id}, {main.data.name}"
        )
        try:
            written = set_matching_threshold(result.threshold, path=config, note=note)
        except ConfigWriteError as exc:
            reject(str(exc))
    recorded: str | None = None
    if record is not None and not refused:
        document = calibration_document(
            result,
            model_id=svc.pack.model_id,
            pack=svc.pack.name,
            dataset=main.data.name if other is None else f"{main.data.name} + {other.data.name}",
            searches={"mated": int(s.mated.size), "nonmated": int(s.nonmated.size)},
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            openlfr_version=openlfr_version(),
            command="openlfr calibrate " + " ".join(sys.argv[2:]),
        )
        try:
            record.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            reject(f"cannot write {record}: {exc.strerror}")
        recorded = document_sha256(document)
        stderr.print(f"calibration document {record} (SHA-256 {recorded})")
    if json_out:
        emit_json(
            {
                **to_jsonable(result),
                "record_sha256": recorded,
                "written_to": str(written) if written else None,
                "refused": refused or None,
            }
        )
    else:
        _print_calibration(result, written)
    if refused:
        reject(refused)
    if written is not None and os.environ.get("OPENLFR_MATCHING__THRESHOLD"):
        stderr.print("[yellow]note:[/] OPENLFR_MATCHING__THRESHOLD is set and overrides the file")


def _print_calibration(c: Calibration, written: Path | None) -> None:
    if math.isnan(c.threshold):
        stdout.print(
            f"no threshold: even with no false match at all, {c.searches:,} non-mated searches "
            f"against {c.measured_size:,} subjects can only show FPIR below {c.smallest_fpir:.3g} "
            f"at {c.watchlist_size:,} subjects (target {c.target_fpir:.3g}); the point rule "
            f"would choose {c.point_threshold:.3f}"
        )
        return
    stdout.print(
        f"threshold [bold]{c.threshold:.3f}[/] (rule {c.rule.value}; chosen on the data "
        f"{c.point_threshold:.3f}, 95% bootstrap range {c.lo_threshold:.3f}–{c.hi_threshold:.3f})"
    )
    stdout.print(
        f"projected FPIR at {c.watchlist_size:,} subjects: {c.fpir:.3g} ({one_in(c.fpir)}), "
        f"95% interval {c.fpir_lo:.3g}–{c.fpir_hi:.3g}; target {c.target_fpir:.3g}"
    )
    stdout.print(f"TPIR there: {pct(c.tpir)} ({pct(c.tpir_lo)}–{pct(c.tpir_hi)})")
    if not c.resolved:
        stdout.print(
            f"[yellow]unresolved:[/] {c.searches:,} non-mated searches against {c.measured_size:,} "
            f"subjects can show FPIR down to {c.smallest_fpir:.3g} at this size; "
            "the threshold is a lower bound"
        )
    if written is not None:
        stdout.print(f"written to {written} (\\[matching] threshold)", highlight=False)


def plan(
    metrics: Path = typer.Option(
        ..., "--metrics", dir_okay=False, help="metrics.json of an evaluation."
    ),
    watchlist_size: int = typer.Option(
        ..., "--watchlist-size", min=1, help="Subjects on the watchlist."
    ),
    faces_per_hour: float = typer.Option(
        ..., "--faces-per-hour", min=0.0, help="Faces passing per hour."
    ),
    hours: float = typer.Option(..., "--hours", min=0.0, help="Hours of deployment."),
    threshold: float | None = typer.Option(
        None, "--threshold", help="Default: the configured one."
    ),
    subjects_passing: float = typer.Option(
        0.0, "--subjects-passing", min=0.0, help="Watchlisted people expected to pass the camera."
    ),
    model: ScalingModel = typer.Option(DEFAULT_MODEL, "--model", help="FPIR scaling model."),
    json_out: bool = JSON,
) -> None:
    """Expected false alerts and missed people for a deployment, from measured rates."""
    t = threshold
    if t is None:
        svc: Services = services()
        t = svc.settings.matching.threshold
    try:
        rates = load_rates(metrics)
        result = plan_deployment(
            rates,
            watchlist_size=watchlist_size,
            faces_per_hour=faces_per_hour,
            hours=hours,
            threshold=t,
            subjects_passing=subjects_passing,
            model=model,
        )
    except PlannerInputError as exc:
        reject(str(exc))
    except ValueError as exc:
        fail_usage(str(exc))
    if json_out:
        emit_json(to_jsonable(result))
        return
    p = result
    stdout.print(
        f"{p.searches:,.0f} faces over {p.hours:g} h against {p.watchlist_size:,} subjects at "
        f"threshold {p.threshold:.2f}:"
    )
    stdout.print(
        f"  false alerts: about {p.expected_false_alerts:.1f} (rate interval "
        f"{p.expected_false_alerts_lo:.1f}–{p.expected_false_alerts_hi:.1f}; plausible count "
        f"{p.false_alerts_range[0]}–{p.false_alerts_range[1]}); chance of at least one "
        f"{pct(p.probability_any_false_alert)} (up to {pct(p.probability_any_false_alert_hi)})"
    )
    stdout.print(
        f"  watchlisted people missed: about {p.expected_missed:.1f} of {p.subjects_passing:g} "
        f"(TPIR {pct(p.tpir)}, {pct(p.tpir_lo)}–{pct(p.tpir_hi)}; plausible count "
        f"{p.missed_range[0]}–{p.missed_range[1]})"
    )
    for note in p.notes:
        stdout.print(f"  [yellow]note:[/] {note}")
