"""CLI commands for the audit log: verify (against signed checkpoints), checkpoint, public-key."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.anchoring import CheckpointPublisher
from openlfr.audit.chain import VerifyReport
from openlfr.audit.checkpoints import (
    CheckpointError,
    SigningKey,
    load_public_key,
    public_key_pem,
    read_checkpoints,
)
from openlfr.cli.common import emit_json, reject, services, stderr, stdout
from openlfr.cli.server import cli_actor
from openlfr.storage import migrate
from openlfr.storage.clock import SystemClock

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _signing_key() -> SigningKey:
    try:
        return services().signing_key
    except CheckpointError as exc:
        reject(str(exc))


@audit_app.command("verify")
def audit_verify(
    checkpoints: Path | None = typer.Option(
        None,
        "--checkpoints",
        dir_okay=False,
        help="Signed checkpoints to compare the log with (default: this home's checkpoint "
        "file, when it exists).",
    ),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        dir_okay=False,
        help="The signer's public key (PEM), as published; default: this home's signing key.",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Re-compute the audit log's hash chain and compare it with signed checkpoints.

    Exit 1 naming every problem found: an edited, deleted or reordered event, a
    missing head row, a log cut short or rewritten since a checkpoint, or emptied.
    """
    svc = services()
    default = svc.settings.checkpoint_file
    path = checkpoints or (default if default.is_file() else None)
    file_problems: tuple[str, ...] = ()
    loaded = None
    key = None
    if path is not None:
        try:
            found = read_checkpoints(path)
            key = load_public_key(public_key) if public_key else _signing_key().public_key
        except CheckpointError as exc:
            reject(str(exc))
        loaded, file_problems = found.checkpoints, found.problems
    if migrate.current_revision(svc.database) is None:
        reject("no openlfr database here yet (run 'openlfr db upgrade')")
    with svc.database.session() as db:
        report = audit.verify(db, loaded, key)
        if file_problems:
            report = _with_problems(report, file_problems)
        if report.ok:
            audit.append(
                db,
                cli_actor(),
                SystemClock().now(),
                Action.AUDIT_VERIFIED,
                entity_type="audit",
                details={
                    "ok": True,
                    "events": report.events_checked,
                    "head": report.head_hash,
                    "checkpoints": report.checkpoints_checked,
                },
            )
    _print(report, path, json_out=json_out)


def _with_problems(report: VerifyReport, extra: tuple[str, ...]) -> VerifyReport:
    problems = report.problems + extra
    return VerifyReport(
        **{**asdict(report), "ok": False, "problems": problems, "problem": problems[0]}
    )


def _print(report: VerifyReport, path: Path | None, *, json_out: bool) -> None:
    if report.ok:
        against = (
            f", matches {report.checkpoints_checked} signed checkpoints from {path}"
            if path is not None
            else ""
        )
        summary = (
            f"audit log intact: {report.events_checked} events, head {report.head_hash}{against}"
        )
    if json_out:
        emit_json(asdict(report))
    elif report.ok:
        stdout.print(summary, highlight=False)
        for warning in report.warnings:
            stderr.print(f"[yellow]note:[/] {warning}", highlight=False)
    if not report.ok:
        where = f" at event {report.broken_at_seq}" if report.broken_at_seq is not None else ""
        stderr.print(
            f"[bold red]audit log broken{where}:[/] {report.problem} "
            f"({report.events_checked} events verified)",
            highlight=False,
        )
        for problem in report.problems[1:]:
            stderr.print(f"[bold red]also:[/] {problem}", highlight=False)
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    reason: str = typer.Option("manual", help="Why this checkpoint is taken (signed with it)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Sign the log's head now and publish it (checkpoint file, MQTT and webhook if set)."""
    svc = services()
    if migrate.current_revision(svc.database) is None:
        reject("no openlfr database here yet (run 'openlfr db upgrade')")
    publisher = CheckpointPublisher(svc.settings, svc.database, _signing_key(), SystemClock())
    try:
        published = publisher.publish(reason)
    except CheckpointError as exc:
        reject(str(exc))
    finally:
        publisher.stop()
    assert published is not None
    cp = published.checkpoint
    if json_out:
        emit_json(json.loads(cp.to_json()))
    else:
        stdout.print(
            f"checkpoint of event {cp.seq} ({cp.hash}) signed by key {cp.key_id}, "
            f"appended to {publisher.path}",
            highlight=False,
        )


@audit_app.command("public-key")
def audit_public_key() -> None:
    """Print the checkpoint signer's public key (PEM): publish it with the checkpoints."""
    typer.echo(public_key_pem(_signing_key().public_key), nl=False)


@audit_app.command("restore-head")
def audit_restore_head(
    checkpoints: Path = typer.Option(
        ..., "--checkpoints", dir_okay=False, help="Signed checkpoints the log must match."
    ),
    public_key: Path | None = typer.Option(None, "--public-key", dir_okay=False),
) -> None:
    """Recreate a deleted head row from the last event, only if the chain verifies and
    matches every signed checkpoint (so a restore can never hide a cut tail)."""
    from openlfr.audit.models import AuditHead

    svc = services()
    try:
        found = read_checkpoints(checkpoints)
        key = load_public_key(public_key) if public_key else _signing_key().public_key
    except CheckpointError as exc:
        reject(str(exc))
    if not found.checkpoints:
        reject(f"{checkpoints} holds no checkpoint to check the log against")
    with svc.database.session() as db:
        if db.get(AuditHead, 1) is not None:
            reject("the head row is present: nothing to restore")
        report = audit.verify(db, found.checkpoints, key)
        missing_head = [p for p in report.problems if "head row is missing" in p]
        others = [p for p in report.problems if p not in missing_head] + list(found.problems)
        if others:
            reject("the log does not verify, so its head is not restored: " + "; ".join(others))
        db.add(AuditHead(id=1, last_seq=report.head_seq, last_hash=report.head_hash))
        db.flush()
        audit.append(
            db,
            cli_actor(),
            SystemClock().now(),
            Action.AUDIT_HEAD_RESTORED,
            entity_type="audit",
            details={"seq": report.head_seq, "hash": report.head_hash},
        )
    stdout.print(f"head restored at event {report.head_seq} ({report.head_hash})", highlight=False)
