"""The shape of the real-data subsets the evaluation tests share (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Subset:
    """A labels CSV over a shared-data folder, and an LFW-style pairs file for it."""

    root: Path
    labels: Path
    pairs: Path | None = None
