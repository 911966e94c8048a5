"""Shared options and argument parsing of the evaluate, calibrate and plan commands."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from openlfr.cli.common import fail_usage, stderr
from openlfr.evaluation.extraction import ProgressCallback
from openlfr.evaluation.faces import FaceRule
from openlfr.evaluation.runner import DEFAULT_REPORT_THRESHOLDS, EvaluationOptions, ProgressFactory


def parse_rate(text: str) -> float:
    """``"1/6000"``, ``"1:6000"``, ``"0.000167"`` or ``"1e-4"`` as a float in (0, 1)."""
    try:
        value = float(Fraction(text.strip().replace(":", "/")))
    except (ValueError, ZeroDivisionError):
        fail_usage(f"{text!r} is not a rate; write it as 1/6000 or 0.000167")
    if not 0.0 < value < 1.0:
        fail_usage(f"rate {text!r} must be between 0 and 1")
    return value


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        fail_usage(f"{what}: expected comma-separated numbers, got {text!r}")


def parse_sizes(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        fail_usage(f"{what}: expected comma-separated whole numbers, got {text!r}")
    if any(v < 1 for v in values):
        fail_usage(f"{what}: sizes must be at least 1")
    return values


def parse_exclusions(items: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip() or not value.strip():
            fail_usage(f"--exclude: expected COLUMN=VALUE, got {item!r}")
        out.append((column.strip(), value.strip()))
    return tuple(out)


@contextmanager
def progress_bars(enabled: bool) -> Iterator[ProgressFactory | None]:
    """Rich progress bars on stderr (stdout stays clean for ``--json``)."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[cached]} cached"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr) as bars:

        def factory(label: str, total: int) -> ProgressCallback:
            task = bars.add_task(label, total=total, cached=0)

            def update(done: int, _total: int, cached: int) -> None:
                bars.update(task, completed=done, cached=cached)

            return update

        yield factory


def command_line() -> str:
    return "openlfr " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def evaluation_options(
    dataset: Path,
    labels: Path | None,
    nonmated_dataset: Path | None,
    nonmated_labels: Path | None,
    references: int,
    nonmated_share: float,
    seed: int,
    face: FaceRule,
    pad: float,
    nonmated_pad: float,
    no_cache: bool,
    aliases: Path | None,
    exclude: list[str] | None = None,
    reviewed: Path | None = None,
) -> EvaluationOptions:
    if nonmated_labels is not None and nonmated_dataset is None:
        fail_usage("--nonmated-labels needs --nonmated-dataset")
    if reviewed is not None and nonmated_dataset is None:
        fail_usage("--reviewed needs --nonmated-dataset (it screens cross-set searches)")
    return EvaluationOptions(
        dataset=dataset,
        labels=labels,
        nonmated_dataset=nonmated_dataset,
        nonmated_labels=nonmated_labels,
        references_per_identity=references,
        nonmated_share=nonmated_share,
        seed=seed,
        face_rule=face,
        pad=pad,
        nonmated_pad=nonmated_pad,
        use_cache=not no_cache,
        aliases=aliases,
        reviewed=reviewed,
        exclude=parse_exclusions(exclude or []),
        command=command_line(),
    )


DATASET = typer.Option(..., "--dataset", help="Folder of images.", file_okay=False)
LABELS = typer.Option(
    None, "--labels", help="Labels CSV (default DATASET/labels.csv).", dir_okay=False
)
NONMATED = typer.Option(
    None,
    "--nonmated-dataset",
    file_okay=False,
    help="Folder of people never on the watchlist (e.g. utkface-balanced); its photos are the "
    "non-mated searches.",
)
NONMATED_LABELS = typer.Option(None, "--nonmated-labels", dir_okay=False, help="Its labels CSV.")
REFERENCES = typer.Option(1, "--references", min=1, help="Photos enrolled per watchlist subject.")
SHARE = typer.Option(
    0.0,
    "--nonmated-share",
    min=0.0,
    max=1.0,
    help="Share of enrollable identities held out as non-mated people.",
)
SEED = typer.Option(0, "--seed", help="Seed of the watchlist split, bootstraps and permutations.")
FACE = typer.Option(FaceRule.CENTRE, "--face", help="Which face in a photo carries its label.")
PAD = typer.Option(
    0.0, "--pad", min=0.0, max=2.0, help="Border around each image (share of its longer side)."
)
NONMATED_PAD = typer.Option(
    0.0, "--nonmated-pad", min=0.0, max=2.0, help="The same, for --nonmated-dataset."
)
EXCLUDE = typer.Option(
    None,
    "--exclude",
    help="Leave out photos whose COLUMN equals VALUE, e.g. age_band=0-17 (repeatable).",
)
ALIASES = typer.Option(
    None,
    "--aliases",
    dir_okay=False,
    help="CSV with the columns identity, same_as and optionally reason: people filed under "
    "two names in the labels.",
)
REVIEWED = typer.Option(
    None,
    "--reviewed",
    dir_okay=False,
    help="CSV with the columns file, subject, verdict (same or different) and optionally "
    "note: non-mated photos reviewed against a watchlist person; those marked same are "
    "left out of the non-mated searches, and the report says so.",
)
NO_CACHE = typer.Option(False, "--no-cache", help="Neither read nor write the embedding cache.")
DEFAULT_THRESHOLDS = ",".join(f"{v:.2f}" for v in DEFAULT_REPORT_THRESHOLDS)
# How --help shows it: with spaces, so the help column can wrap it at 80 columns
# (one long token is cut with an ellipsis instead).
DEFAULT_THRESHOLDS_SHOWN = ", ".join(f"{v:.2f}" for v in DEFAULT_REPORT_THRESHOLDS)
JSON = typer.Option(False, "--json", help="Print JSON on stdout.")
