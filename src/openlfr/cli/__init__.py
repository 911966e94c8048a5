"""The ``openlfr`` command: one Typer app, commands grouped in sibling modules."""

from __future__ import annotations

import typer

from openlfr.cli import evaluate, recognition
from openlfr.cli.run import run as run_cameras
from openlfr.cli.watchlists import watchlist_app

app = typer.Typer(
    name="openlfr",
    help="Open, accountable live facial recognition.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(recognition.verify)
app.command()(recognition.enrol)
app.command()(recognition.identify)
app.command("run")(run_cameras)
app.add_typer(watchlist_app, name="watchlist")
app.command()(evaluate.evaluate)
app.command()(evaluate.calibrate)
app.command()(evaluate.plan)


def main() -> None:
    """Console-script entry point."""
    app()
