"""Who is in the demo: the watchlist drawn from the kit, and who walks through the street scene.

Everyone is presented neutrally: listed volunteers are "Demo subject 001" with the
category "demo" and no invented offence (see demokit/CREDITS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openlfr.demokit import kit_images

DEMO_CATEGORY = "demo"

# Listed, but never walk past the camera: most people on a real watchlist are not seen.
ABSENT_FROM_SCENE = frozenset({"demo-subject-007", "demo-subject-008"})

_SOURCES = {
    "london": "demo kit: Face Research Lab London Set (CC BY 4.0)",
    "intel": "demo kit: Intel IoT DevKit sample video still (CC BY 4.0)",
}
_NOTES = {
    "london": "A consenting research volunteer's photo, on this watchlist for the demo only.",
    "intel": "A person filmed for Intel's sample videos, on this watchlist for the demo only.",
}


@dataclass(frozen=True, slots=True)
class DemoSubject:
    """One person on the demo watchlist, with the kit photo enrolled for them."""

    reference: str
    name: str
    photo: Path
    image_source: str
    identity: str
    notes: str


@dataclass(frozen=True, slots=True)
class Passer:
    """One person who walks through the synthetic street, listed or not."""

    identity: str
    photo: Path
    listed_as: str | None


def reference_of(identity: str) -> str:
    """``demo-subject-001`` → ``DEMO-001``."""
    return "DEMO-" + identity.rsplit("-", 1)[-1]


def demo_watchlist() -> list[DemoSubject]:
    """The demo watchlist: every kit identity with a watchlist photo, in kit order."""
    subjects = []
    for image in kit_images():
        if image.role != "watchlist":
            continue
        number = image.identity.rsplit("-", 1)[-1]
        kind = "intel" if image.path.name.startswith("intel_") else "london"
        subjects.append(
            DemoSubject(
                reference=reference_of(image.identity),
                name=f"Demo subject {number}",
                photo=image.path,
                image_source=_SOURCES[kind],
                identity=image.identity,
                notes=_NOTES[kind],
            )
        )
    return subjects


def scene_cast() -> list[Passer]:
    """Who walks through the synthetic street: a different photo of each listed volunteer
    (except those absent on purpose) and one photo of every person not on the watchlist."""
    listed = {s.identity: s.reference for s in demo_watchlist()}
    cast: list[Passer] = []
    seen: set[str] = set()
    for image in kit_images():
        if image.role == "watchlist" or image.identity in seen:
            continue
        if image.identity in ABSENT_FROM_SCENE:
            continue
        seen.add(image.identity)
        cast.append(Passer(image.identity, image.path, listed.get(image.identity)))
    return cast
