"""Write a chosen setting into the TOML configuration file, keeping every other key and comment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import tomlkit
from pydantic import ValidationError
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from openlfr.config.settings import MatchingConfig, config_file_path


class ConfigWriteError(RuntimeError):
    """The configuration file could not be updated; it was left as it was."""


def set_matching_threshold(value: float, *, path: Path | None = None, note: str = "") -> Path:
    """Set ``[matching] threshold`` in the TOML file the settings are read from.

    The file (default :func:`config_file_path`) is created if missing; an existing
    one keeps its other keys, tables and comments. ``note`` becomes a comment on
    the line (where the value came from). The value is checked against the
    setting's bounds first, and the file is replaced atomically, so a failure
    leaves the old file intact.
    """
    target = path or config_file_path()
    try:
        MatchingConfig(threshold=value)
    except ValidationError as exc:
        raise ConfigWriteError(
            f"threshold {value} is not a valid matching threshold: {exc}"
        ) from exc
    if target.exists():
        try:
            doc = tomlkit.parse(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, TOMLKitError) as exc:
            raise ConfigWriteError(
                f"{target} cannot be read as TOML, so it was not changed: {exc}"
            ) from exc
    else:
        doc = tomlkit.document()
    matching = doc.get("matching")
    if matching is None:
        matching = tomlkit.table()
        doc["matching"] = matching
    elif not isinstance(matching, Table):
        raise ConfigWriteError(f"{target}: 'matching' is not a table, so it was not changed")
    item = tomlkit.item(round(float(value), 4))
    if note:
        item.comment(note)
    matching["threshold"] = item
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomlkit.dumps(doc))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
