"""A small kit of redistributable faces and a street clip (credits in CREDITS.md) for demos."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parent

CALIBRATIONS_DIR = KIT_DIR / "calibrations"
"""Calibration documents of the default pack (numbers only, from lfw-dev; how each was made is
its ``command``): the evidence the demo deployment's threshold cites."""

STREET_CLIP = KIT_DIR / "video" / "intel_street_demo.mp4"
"""Intel's sample street clip (480×270, 12.5 fps, 11 s): demo subjects 009 and 010 (whose
watchlist stills are single frames of other clips of them) and four people not listed."""


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
