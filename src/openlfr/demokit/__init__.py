"""A small kit of redistributable faces (CC BY 4.0, credits in CREDITS.md) for demos and tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class KitImage:
    """One shipped photo: its path, who it shows, and its role in the demo."""

    path: Path
    identity: str
    role: str  # "watchlist", "probe" or "distractor"


def kit_images() -> list[KitImage]:
    """Every photo in the kit, in the order of ``labels.csv``."""
    with (KIT_DIR / "labels.csv").open(newline="") as fh:
        return [KitImage(KIT_DIR / r["file"], r["identity"], r["role"]) for r in csv.DictReader(fh)]
