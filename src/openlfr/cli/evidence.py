"""CLI commands for evidence: export one alert's sealed pack or a deployment's use log, and
verify either offline (no database: only the checkpoint key's public half)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import typer

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.anchoring import CheckpointPublisher
from openlfr.audit.checkpoints import Checkpoint, CheckpointError, load_public_key
from openlfr.cli.common import emit_json, reject, services, stderr, stdout
from openlfr.cli.server import cli_actor
from openlfr.evidence import pack, uselog
from openlfr.evidence.verify import PackReport, verify_file
from openlfr.storage.clock import SystemClock
from openlfr.storage.context import Ctx
from openlfr.storage.errors import DomainError

evidence_app = typer.Typer(
    help="Evidence packs and use logs that others can check offline.", no_args_is_help=True
)


@contextmanager
def _exporting() -> Iterator[tuple[Ctx, pack.Checkpointer, str]]:
    """A unit of work, a way to take a checkpoint mid-way, and the signer's key id."""
    svc = services()
    clock = SystemClock()
    publisher = CheckpointPublisher(svc.settings, svc.database, svc.signing_key, clock)
    try:
        with svc.database.session() as db:

            def take(reason: str) -> Checkpoint:
                db.commit()  # the checkpoint reads the head in its own transaction
                published = publisher.publish(reason)
                assert published is not None
                return published.checkpoint

            yield (
                Ctx(db=db, actor=cli_actor(), now=clock.now(), blobs=svc.blobs),
                take,
                (svc.signing_key.key_id),
            )
    except (DomainError, CheckpointError) as exc:
        reject(str(exc))
    finally:
        publisher.stop()


@evidence_app.command("export")
def export(
    alert: int = typer.Option(..., "--alert", help="The alert's id."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the pack (.zip)."),
) -> None:
    """Write one alert's sealed evidence pack (audited)."""
    svc = services()
    with _exporting() as (ctx, take, key_id):
        built = pack.build(
            ctx,
            alert,
            key=svc.signing_key,
            checkpoint_file=svc.settings.checkpoint_file,
            take_checkpoint=take,
        )
        audit.record(
            ctx,
            Action.EVIDENCE_EXPORTED,
            entity_type="alert",
            entity_id=alert,
            details={"checkpoint_seq": built.checkpoint.seq, "events": built.events},
        )
        at = ctx.now
    target = out or Path(pack.default_name(alert, at))
    target.write_bytes(built.data)
    stdout.print(
        f"evidence pack of alert {alert}: {target} ({len(built.data):,} bytes; chain proof of "
        f"{built.events} events to checkpoint {built.checkpoint.seq}, key {key_id})",
        highlight=False,
    )


@evidence_app.command("use-log")
def use_log(
    deployment: int = typer.Option(..., "--deployment", help="The deployment's id."),
    out: Path | None = typer.Option(None, "--out", help="Where to write it."),
    csv: bool = typer.Option(False, "--csv", help="CSV of the events (no chain proof)."),
) -> None:
    """Write a deployment's use log (EU AI Act Art. 12): its events and periods of use."""
    svc = services()
    with _exporting() as (ctx, take, _):
        log = uselog.build(
            ctx,
            deployment,
            key=svc.signing_key,
            checkpoint_file=svc.settings.checkpoint_file,
            take_checkpoint=take,
        )
        audit.record(
            ctx,
            Action.USE_LOG_EXPORTED,
            entity_type="deployment",
            entity_id=deployment,
            deployment_id=deployment,
            details={"format": "csv" if csv else "json", "checkpoint_seq": log.checkpoint.seq},
        )
    target = out or Path(f"use-log-deployment-{deployment}.{'csv' if csv else 'json'}")
    if csv:
        target.write_text(log.csv_text(), encoding="utf-8")
    else:
        target.write_bytes(log.json_bytes())
    stdout.print(f"use log of deployment {deployment}: {target}", highlight=False)


@evidence_app.command("verify")
def verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A pack or a use log."),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        dir_okay=False,
        help="The checkpoint key's public PEM ('openlfr audit public-key'). Default: the key the "
        "file carries, whose fingerprint is printed to compare with the published one.",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Check an evidence pack or use log with no database; exit 1 on any problem."""
    try:
        key = load_public_key(public_key) if public_key else None
    except CheckpointError as exc:
        reject(str(exc))
    report = verify_file(file.read_bytes(), key)
    if json_out:
        emit_json({"ok": report.ok, **asdict(report)})
    else:
        _print(file, report)
    if not report.ok:
        raise typer.Exit(1)


PROPOSED = str(Action.ENGAGEMENT_PROPOSED)


def _print(file: Path, report: PackReport) -> None:
    out = stdout if report.ok else stderr
    alert = report.alert
    if "id" in alert:
        stdout.print(
            f"alert {alert.get('id')} · deployment {alert.get('deployment_id')} · camera "
            f"{alert.get('camera')} · captured {alert.get('captured_at')} · subject "
            f"{alert.get('subject_reference')} · score {alert.get('score')} (threshold "
            f"{alert.get('threshold')})",
            highlight=False,
        )
        episode = report.episode
        if episode:
            check = episode.get("verification")
            state = check.get("state") if isinstance(check, dict) else None
            cameras = episode.get("cameras")
            names = ", ".join(str(c) for c in cameras) if isinstance(cameras, list) else ""
            stdout.print(
                f"  episode {episode.get('id')}: {episode.get('looks')} "
                f"look{'' if episode.get('looks') == 1 else 's'} on "
                f"{names}; two-person "
                f"verification: {state or 'not used'}",
                highlight=False,
            )
        for d in report.decisions:
            who = d.get("person") or d.get("by")
            # A proposal's event names no decision: it is the first person's "engage".
            what = d.get("decision") or ("engaged" if d.get("action") == PROPOSED else "")
            stdout.print(
                f"  decision (event {d.get('seq')}, {d.get('action')}): "
                f"{what} {d.get('outcome') or ''} by {who} at {d.get('at')}",
                highlight=False,
            )
        for name, digest in report.files.items():
            stdout.print(f"  {name}: sha256 {digest}", highlight=False)
    if report.checkpoint_seq is not None:
        stdout.print(
            f"chain proof: {report.events_checked} events up to checkpoint {report.checkpoint_seq} "
            f"({report.checkpoint_at}), key {report.key_id}",
            highlight=False,
        )
    for note in report.notes:
        stdout.print(f"note: {note}", highlight=False)
    for problem in report.problems:
        out.print(f"FAILED: {problem}", highlight=False)
    out.print(f"{file}: {'verified' if report.ok else 'NOT verified'}", highlight=False)
