"""Screening non-mated searches from another dataset for people who are on the watchlist.

Two face sets crawled from the web share people: UTKFace holds many of the
public figures LFW holds. When the non-mated searches come from another set
than the watchlist, a high "false" score is often the same person, and FPIR
(and its differences between groups) then measures which people the two sets
share rather than the model. So the highest cross-set scores are listed for a
person to review by eye, both photos side by side, and the verdicts are kept
in a review file (identifiers only, no images) that later runs apply and the
report states, as ``--aliases`` does for label errors within one set.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.evaluation.datasets import DatasetError, LabelledImage
from openlfr.evaluation.results import CrossSetScreen, ScreenedPair
from openlfr.types import FloatArray
from openlfr.watchlist.gallery import Gallery

REVIEW_VERDICTS = ("same", "different")
DEFAULT_REVIEW_COUNT = 40


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """A person's verdict on one non-mated photo against one watchlist subject."""

    subject: str
    verdict: str
    note: str


@dataclass(frozen=True, slots=True)
class ReviewList:
    """Reviewed cross-set pairs, by non-mated photo (its path in its labels file)."""

    path: Path
    sha256: str
    entries: dict[str, ReviewEntry]

    @property
    def same(self) -> dict[str, ReviewEntry]:
        """The photos reviewed as showing the watchlist subject: not non-mated searches."""
        return {f: e for f, e in self.entries.items() if e.verdict == "same"}


def read_review(path: Path) -> ReviewList:
    """Verdicts from a CSV with columns ``file,subject,verdict`` (``note`` optional).

    ``file`` is a non-mated photo as its labels file names it; ``subject`` the
    watchlist identity it was compared with; ``verdict`` is ``same`` (the photo
    shows that person, so it is no non-mated search and is left out) or
    ``different`` (checked: different people, kept).
    """
    try:
        raw = path.read_bytes()
        rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"review file {path} cannot be read: {exc}") from exc
    if rows and not {"file", "subject", "verdict"} <= set(rows[0]):
        raise DatasetError(f"review file {path} needs the columns file,subject,verdict")
    entries: dict[str, ReviewEntry] = {}
    for line_no, r in enumerate(rows, start=2):
        file = (r.get("file") or "").strip()
        verdict = (r.get("verdict") or "").strip().lower()
        if not file:
            continue
        if verdict not in REVIEW_VERDICTS:
            raise DatasetError(
                f"review file {path} line {line_no}: verdict {verdict!r} is not one of "
                f"{', '.join(REVIEW_VERDICTS)}"
            )
        if file in entries:
            raise DatasetError(f"review file {path} line {line_no}: {file} is listed twice")
        subject = (r.get("subject") or "").strip()
        entries[file] = ReviewEntry(subject, verdict, (r.get("note") or "").strip())
    return ReviewList(path, hashlib.sha256(raw).hexdigest(), entries)


def split_reviewed(
    images: Sequence[LabelledImage], review: ReviewList | None, identities: set[str]
) -> tuple[list[int], list[int]]:
    """Positions of the non-mated photos kept, and of those reviewed as the same person.

    A ``same`` verdict must name a person of the watchlist's dataset: a typo
    would otherwise exclude a photo for a person nobody listed.
    """
    same = review.same if review else {}
    kept, excluded = [], []
    for i, img in enumerate(images):
        entry = same.get(img.file)
        if entry is None:
            kept.append(i)
            continue
        if entry.subject not in identities:
            assert review is not None
            raise DatasetError(
                f"review file {review.path}: {img.file} is marked as the same person as "
                f"{entry.subject!r}, who is not in the watchlist's dataset"
            )
        excluded.append(i)
    return kept, excluded


def screen_cross_set(
    gallery: Gallery,
    vectors: Sequence[FloatArray | None],
    images: Sequence[LabelledImage],
    *,
    excluded: Sequence[int],
    review: ReviewList | None,
    subject_files: dict[str, str],
    nonmated_source: str,
    nonmated_root: Path,
    watchlist_source: str,
    watchlist_root: Path,
    count: int = DEFAULT_REVIEW_COUNT,
) -> CrossSetScreen:
    """The ``count`` highest cross-set scores (and every excluded pair) with their verdicts.

    ``vectors`` and ``images`` cover every photo of the non-mated dataset, the
    excluded ones included, so the report can show what was left out.
    """
    with_face = [i for i, v in enumerate(vectors) if v is not None]
    found = [v for v in vectors if v is not None]
    entries = review.entries if review else {}
    pairs: list[ScreenedPair] = []
    if with_face and len(gallery):
        probes = np.stack(found).astype(np.float32)
        scores = gallery.subject_scores(probes)
        best = scores.argmax(axis=1)
        top = scores[np.arange(best.size), best]
        order = np.argsort(-top, kind="stable")
        shown = set(order[:count].tolist())
        shown |= {j for j, i in enumerate(with_face) if i in set(excluded)}
        column = {name: k for k, name in enumerate(gallery.subjects)}
        for j in (k for k in order.tolist() if k in shown):
            img = images[with_face[j]]
            entry = entries.get(img.file)
            subject, score = gallery.subjects[int(best[j])], float(top[j])
            if entry is not None and entry.verdict == "same" and entry.subject in column:
                # Show the pair as reviewed, even if another subject now scores higher.
                subject, score = entry.subject, float(scores[j, column[entry.subject]])
            applies = entry is not None and entry.subject == subject
            pairs.append(
                ScreenedPair(
                    score=score,
                    file=img.file,
                    subject=subject,
                    subject_file=subject_files.get(subject, ""),
                    labels=dict(img.attributes),
                    verdict=entry.verdict if entry is not None and applies else "",
                    note=entry.note if entry is not None and applies else "",
                )
            )
    files = {img.file for img in images}
    return CrossSetScreen(
        nonmated_source=nonmated_source,
        nonmated_root=str(nonmated_root),
        watchlist_source=watchlist_source,
        watchlist_root=str(watchlist_root),
        reviewed=str(review.path) if review else None,
        reviewed_sha256=review.sha256 if review else None,
        excluded=len(excluded),
        kept_after_review=sum(
            1 for f, e in entries.items() if e.verdict == "different" and f in files
        ),
        entries_not_in_run=sum(1 for f in entries if f not in files),
        pairs=tuple(pairs),
    )
