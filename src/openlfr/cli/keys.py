"""CLI commands for the data key: check it against this home's data, rotate it."""

from __future__ import annotations

from dataclasses import asdict

import typer

from openlfr.cli.common import emit_json, reject, services, stdout
from openlfr.cli.server import cli_actor, ready
from openlfr.privacy import keys
from openlfr.privacy.crypto import DataKeyError
from openlfr.privacy.rotation import rotate
from openlfr.storage.clock import SystemClock

keys_app = typer.Typer(help="The data key that seals biometric data at rest.", no_args_is_help=True)


@keys_app.command("check")
def keys_check(json_out: bool = typer.Option(False, "--json")) -> None:
    """Check that the configured data key is the one this home's sealed data needs."""
    svc = ready(services())  # exits 1 with the reason when the key is missing or wrong
    with svc.database.session() as db:
        fingerprint = keys.current_fingerprint(db)
    info = {"key_file": str(svc.settings.resolved_key_file), "fingerprint": fingerprint}
    if json_out:
        emit_json(info)
    else:
        stdout.print(f"data key {info['key_file']} matches (fingerprint {fingerprint})")


@keys_app.command("rotate")
def keys_rotate(json_out: bool = typer.Option(False, "--json")) -> None:
    """Re-seal every blob, template and sealed field under a new key, then retire the old one.

    Audited. Safe to interrupt: running it again finishes the same rotation.
    Stop the server first; back up the new key file afterwards.
    """
    svc = ready(services())
    try:
        report = rotate(svc.settings, svc.database, actor=cli_actor(), now=SystemClock().now)
    except DataKeyError as exc:
        reject(str(exc))
    if json_out:
        emit_json(asdict(report))
    else:
        stdout.print(
            f"data key rotated {report.old_fingerprint[:12]}… → {report.new_fingerprint[:12]}…: "
            f"{report.blobs} blobs, {report.fields} sealed fields and {report.local_files} local "
            f"files re-sealed ({report.already_done} already under the new key"
            f"{', resumed' if report.resumed else ''}); back up {svc.settings.resolved_key_file}",
            highlight=False,
        )
