"""Shared CLI plumbing: services, JSON output, clear errors with stable exit codes."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from openlfr.config import Settings
from openlfr.services import Services, build_services
from openlfr.storage import migrate
from openlfr.storage.clock import SystemClock
from openlfr.storage.context import Actor, Ctx
from openlfr.watchlist_records.models import WatchlistCreate

# Exit codes: 0 success, 1 a rejected input (reason on stderr), 2 usage errors.
EXIT_REJECTED = 1
EXIT_USAGE = 2

stderr = Console(stderr=True, soft_wrap=True)  # messages stay on one line for scripts
stdout = Console(soft_wrap=True)


def services() -> Services:
    """Services built from the environment and config file; bad settings exit 2."""
    try:
        return build_services(Settings())
    except ValidationError as exc:
        fail_usage(f"invalid configuration: {exc}")


def check_watchlist_name(name: str) -> str:
    """``name`` if it is a valid watchlist name (the API's rule); otherwise exit 2."""
    try:
        WatchlistCreate(name=name)
    except ValidationError:
        fail_usage(
            f"watchlist name {name!r} is not valid: use 1–64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return name


def cli_actor() -> Actor:
    """Who the audit log says acted: the command line, as the local user."""
    return Actor.system(f"cli:{getpass.getuser()}")


@contextmanager
def work(svc: Services) -> Iterator[Ctx]:
    """One committed unit of work on the configured database (the embedded SQLite in
    ``$OPENLFR_HOME`` unless set), its schema brought up to date first."""
    migrate.upgrade(svc.database)
    with svc.database.session() as db:
        yield Ctx(db=db, actor=cli_actor(), now=SystemClock().now(), blobs=svc.blobs)


def emit_json(payload: Any) -> None:
    """One JSON document on stdout (the only thing ``--json`` commands print there)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def reject(message: str) -> NoReturn:
    """Stop with exit code 1: the input was understood and refused."""
    stderr.print(f"[bold red]rejected:[/] {message}", highlight=False)
    raise typer.Exit(EXIT_REJECTED)


def fail_usage(message: str) -> NoReturn:
    """Stop with exit code 2: the command itself was wrong."""
    stderr.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(EXIT_USAGE)


def read_file(path: Path) -> bytes:
    """The bytes of an input file, or exit 1 naming the file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        reject(f"{path}: no such file")
    except IsADirectoryError:
        reject(f"{path}: is a folder, not an image file")
    except OSError as exc:
        reject(f"{path}: cannot be read ({exc.strerror})")
