"""The ``openlfr`` command: one Typer app, commands grouped in sibling modules."""

from __future__ import annotations

import sys

import typer

from openlfr.audit.checkpoints import CheckpointError
from openlfr.cli import demo, evaluate, recognition, server
from openlfr.cli.audit import audit_app
from openlfr.cli.common import EXIT_REJECTED
from openlfr.cli.evidence import evidence_app
from openlfr.cli.keys import keys_app
from openlfr.cli.run import run as run_cameras
from openlfr.cli.watchlists import watchlist_app
from openlfr.cli.worker import worker
from openlfr.privacy.crypto import DataKeyError
from openlfr.vision.weights import ModelFileError

app = typer.Typer(
    name="openlfr",
    help="Open, accountable live facial recognition.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help wraps every option, name and default at the terminal's
    # width; Rich's boxed tables cut long names and defaults with "…" at 80 columns.
    rich_markup_mode=None,
)
app.command()(recognition.verify)
app.command()(recognition.enrol)
app.command()(recognition.identify)
app.command("run")(run_cameras)
app.add_typer(watchlist_app, name="watchlist")
app.command()(server.serve)
app.command()(worker)
app.command()(server.purge)
app.add_typer(server.db_app, name="db")
app.add_typer(server.user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")
app.add_typer(keys_app, name="keys")
app.command()(evaluate.evaluate)
app.command()(evaluate.calibrate)
app.command()(evaluate.plan)
app.command()(demo.demo)
app.add_typer(demo.report_app, name="report")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except (ModelFileError, DataKeyError, CheckpointError) as exc:
        # A missing or damaged model or key is the installation's fault, not the input's:
        # one line that says which file and how to mend it, never a traceback.
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        raise SystemExit(EXIT_REJECTED) from None
