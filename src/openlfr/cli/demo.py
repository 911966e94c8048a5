"""CLI: ``openlfr demo`` (the one-command demo) and ``openlfr report`` (records, transparency)."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

from openlfr.cli.common import fail_usage, reject, services, stderr, stdout
from openlfr.config.settings import default_home
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.storage.clock import SystemClock


def demo(
    reset: bool = typer.Option(
        False, "--reset", help="Delete the demo's earlier state first and start afresh."
    ),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port for the console."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (local only by default)."),
    headless: bool = typer.Option(
        False, "--headless", help="Do not open a web browser (servers, CI)."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object per line on stdout: ready, each alert, stopped."
    ),
    home: Path | None = typer.Option(
        None, "--home", file_okay=False, help="The demo's folder (default: $OPENLFR_HOME/demo)."
    ),
) -> None:
    """Run the demo: accounts, a watchlist of demo volunteers, a live deployment, the console.

    Everything lives in its own folder and is reused by the next run (new
    passwords are printed each time); --reset starts afresh. Ctrl-C stops.
    """
    from openlfr.demo.output import JsonOutput, TextOutput
    from openlfr.demo.run import DemoError, DemoOptions, run_demo
    from openlfr.demo.setup import DemoHomeError

    options = DemoOptions(
        home=(home or default_home() / "demo").expanduser().resolve(),
        host=host,
        port=port,
        reset=reset,
        headless=headless,
    )
    try:
        code = run_demo(options, JsonOutput() if json_out else TextOutput())
    except DemoHomeError as exc:
        fail_usage(str(exc))
    except DemoError as exc:
        reject(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(code)


report_app = typer.Typer(help="Deployment records and transparency reports.", no_args_is_help=True)


class RecordFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def _database() -> Services:
    """Services on an existing database, its schema brought up to date."""
    svc = services()
    if migrate.current_revision(svc.database) is None:
        reject(
            "no openlfr database here yet (set OPENLFR_HOME, e.g. to the demo's folder "
            f"{default_home() / 'demo'})"
        )
    migrate.upgrade(svc.database)
    return svc


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        reject(f"{out}: cannot be written ({exc.strerror})")
    stderr.print(f"wrote {out}", highlight=False)


@report_app.command("deployment")
def report_deployment(
    deployment_id: int = typer.Argument(..., help="The deployment's id."),
    fmt: RecordFormat = typer.Option(RecordFormat.JSON, "--format", help="json, csv or html."),
    out: Path | None = typer.Option(None, "--out", dir_okay=False, help="File (default: stdout)."),
) -> None:
    """A deployment's published record (final once closed, provisional before)."""
    from openlfr.reports.formats import record_json, records_csv
    from openlfr.reports.html import record_page
    from openlfr.reports.record import build_record

    svc = _database()
    with svc.database.session() as db:
        try:
            record = build_record(db, deployment_id, now=SystemClock().now())
        except LookupError as exc:
            reject(str(exc))
    if fmt is RecordFormat.JSON:
        _write(record_json(record), out)
    elif fmt is RecordFormat.CSV:
        _write(records_csv([record]), out)
    else:
        _write(record_page(record), out)


def _default_evaluations() -> list[Path]:
    return [p for p in (default_home() / "evaluations", Path("docs") / "evaluation") if p.is_dir()]


@report_app.command("transparency")
def report_transparency(
    first: datetime = typer.Option(
        ..., "--from", formats=["%Y-%m-%d"], help="First day of the period (YYYY-MM-DD, UTC)."
    ),
    last: datetime = typer.Option(
        ..., "--to", formats=["%Y-%m-%d"], help="Last day of the period, included."
    ),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="The HTML file to write."),
    evaluation: list[Path] | None = typer.Option(
        None,
        "--evaluation",
        help="An evaluation's metrics.json or a folder of reports (repeatable); the newest with "
        "a demographic analysis gives the headline. Default: $OPENLFR_HOME/evaluations and "
        "./docs/evaluation.",
    ),
    csv_out: Path | None = typer.Option(
        None, "--csv", dir_okay=False, help="Also write every deployment's record as CSV."
    ),
) -> None:
    """Every deployment of a period: totals, charts and the equitability headline, as HTML."""
    from openlfr.reports.equitability import EvaluationFileError
    from openlfr.reports.formats import records_csv
    from openlfr.reports.transparency import build_report, report_page

    if last < first:
        fail_usage("--to is before --from")
    svc = _database()
    with svc.database.session() as db:
        try:
            report = build_report(
                db,
                first.date(),
                last.date(),
                now=SystemClock().now(),
                evaluations=evaluation or _default_evaluations(),
                default_threshold=svc.settings.matching.threshold,
            )
        except EvaluationFileError as exc:
            reject(str(exc))
    _write(report_page(report), out)
    if csv_out is not None:
        _write(records_csv(report.records), csv_out)
    t = report.totals
    stdout.print(
        f"{t.deployments} deployment(s), {t.alerts} alert(s), {t.false_alerts} false; "
        f"{report.evaluation_note}",
        highlight=False,
    )
