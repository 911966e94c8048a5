"""Every command's --help reads in full on an 80-column terminal (nothing cut with '…')."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from openlfr.cli import app


def _commands() -> list[tuple[list[str], Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[list[str], Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        # Typer carries its own copy of Click: recognise a group by what it has.
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            out.append((path, cmd))

    walk(root, [])
    return out


def _ellipses_in_source(cmd: Any) -> int:
    """'…' the command's own texts contain (an ellipsis the author wrote is not a cut)."""
    texts = [cmd.help or ""]
    for p in cmd.params:
        texts.append(getattr(p, "help", None) or "")
        shown = getattr(p, "show_default", None)
        texts.append(shown if isinstance(shown, str) else str(p.default))
    return sum(t.count("…") for t in texts)


COMMANDS = _commands()


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_is_not_cut_at_80_columns(path: list[str], cmd: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert result.output.count("…") == _ellipses_in_source(cmd), result.output


def test_the_threshold_default_is_shown_whole() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--help"], env={"COLUMNS": "80"})
    flat = " ".join(result.output.replace("│", " ").split())
    assert "0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70" in flat
