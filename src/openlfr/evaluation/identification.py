"""The 1:N open-set protocol: a seeded watchlist split, then mated and non-mated searches.

The split, from a dataset's identities (``k`` = references per identity):

- identities with at least ``k + 1`` images are eligible for the watchlist;
  a seeded share of them (``nonmated_share``) is held out as non-mated people;
- each enrolled identity's images are shuffled (seeded); its references are the
  first ``k`` in that order on which a face was found (a photo with no face
  cannot be enrolled); the rest are its **mated searches**, including any with
  no face, which count as failures to acquire;
- an identity with too few usable photos fails to enrol; it and every other
  identity that is not enrolled provide the **non-mated searches**.

The split depends only on the labels and the seed except where a reference
photo has no detectable face (then the next photo in the seeded order is
used), so two models are compared on almost the same split.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openlfr.evaluation.rates import mate_ranks
from openlfr.types import FloatArray
from openlfr.watchlist.gallery import Gallery

IntVector = npt.NDArray[np.int64]
FloatVector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class OpenSetSplit:
    """Which images form the watchlist, the mated and the non-mated searches.

    Attributes:
        references: image indices enrolled, grouped by the identity in ``enrolled``.
        enrolled: the watchlist's identities (one per ``references`` entry).
        mated: image indices searched whose identity is enrolled.
        nonmated: image indices searched whose identity is not enrolled.
        failed_enrolment: eligible identities without ``k`` usable photos.
        held_out: eligible identities moved to the non-mated side by the seed.
    """

    seed: int
    references_per_identity: int
    nonmated_share: float
    enrolled: tuple[str, ...]
    references: tuple[tuple[int, ...], ...]
    mated: tuple[int, ...]
    nonmated: tuple[int, ...]
    failed_enrolment: tuple[str, ...]
    held_out: tuple[str, ...]


def split_open_set(
    identities: Sequence[str],
    acquired: Sequence[bool],
    *,
    references_per_identity: int = 1,
    nonmated_share: float = 0.0,
    seed: int = 0,
) -> OpenSetSplit:
    """Split images (by their identity labels) into watchlist, mated and non-mated searches.

    Args:
        identities: ``(n,)`` identity of each image.
        acquired: ``(n,)`` whether a face was found in each image.
        references_per_identity: ``k``, photos enrolled per watchlist subject.
        nonmated_share: share of eligible identities held out as non-mated people.
        seed: fixes the shuffles; the same seed and labels give the same split.
    """
    if len(identities) != len(acquired):
        raise ValueError(f"{len(identities)} identities but {len(acquired)} acquisition flags")
    if references_per_identity < 1:
        raise ValueError("references_per_identity must be at least 1")
    if not 0.0 <= nonmated_share <= 1.0:
        raise ValueError("nonmated_share must be within [0, 1]")
    k = references_per_identity
    by_identity: dict[str, list[int]] = defaultdict(list)
    for i, identity in enumerate(identities):
        by_identity[identity].append(i)
    rng = np.random.default_rng(seed)
    eligible = sorted(name for name, imgs in by_identity.items() if len(imgs) >= k + 1)
    eligible_set = set(eligible)
    n_held = round(nonmated_share * len(eligible))
    held = (
        set(rng.choice(np.array(eligible, dtype=object), size=n_held, replace=False).tolist())
        if n_held
        else set()
    )
    enrolled: list[str] = []
    references: list[tuple[int, ...]] = []
    mated: list[int] = []
    nonmated: list[int] = []
    failed: list[str] = []
    for name in sorted(by_identity):
        images = by_identity[name]
        if name not in eligible_set or name in held:
            nonmated.extend(images)
            continue
        order = [images[j] for j in rng.permutation(len(images))]
        refs = [i for i in order if acquired[i]][:k]
        if len(refs) < k:
            failed.append(name)
            nonmated.extend(images)
            continue
        enrolled.append(name)
        references.append(tuple(refs))
        mated.extend(i for i in images if i not in refs)
    return OpenSetSplit(
        seed=seed,
        references_per_identity=k,
        nonmated_share=nonmated_share,
        enrolled=tuple(enrolled),
        references=tuple(references),
        mated=tuple(sorted(mated)),
        nonmated=tuple(sorted(nonmated)),
        failed_enrolment=tuple(failed),
        held_out=tuple(sorted(held)),
    )


@dataclass(frozen=True, slots=True)
class OpenSetScores:
    """Search outcomes against one watchlist; indices are positions in the caller's lists.

    Attributes:
        subjects: the watchlist's subjects, in score-column order.
        mated: positions of mated searches with a face.
        mate_scores: ``(M,)`` score of each such search's own subject.
        mate_ranks: ``(M,)`` rank of that subject (1 = top; ties favour the mate).
        mated_top_scores: ``(M,)`` best score over all subjects.
        mated_unacquired: positions of mated searches with no face (failures to acquire).
        nonmated: positions of non-mated searches with a face.
        nonmated_scores: ``(Q, S)`` every non-mated search against every subject.
        nonmated_unacquired: positions of non-mated searches with no face.
    """

    subjects: tuple[str, ...]
    mated: IntVector
    mate_scores: FloatVector
    mate_ranks: IntVector
    mated_top_scores: FloatVector
    mated_unacquired: IntVector
    nonmated: IntVector
    nonmated_scores: npt.NDArray[np.float32]
    nonmated_unacquired: IntVector

    @property
    def nonmated_top_scores(self) -> FloatVector:
        """``(Q,)`` each non-mated search's best score (what decides an alert)."""
        if self.nonmated_scores.shape[1] == 0:
            return np.full(self.nonmated_scores.shape[0], -np.inf)
        return np.asarray(self.nonmated_scores.max(axis=1), dtype=np.float64)

    @property
    def nonmated_top_subjects(self) -> IntVector:
        """``(Q,)`` column of each non-mated search's best-scoring subject."""
        return np.asarray(self.nonmated_scores.argmax(axis=1), dtype=np.int64)


def _stack(
    vectors: Sequence[FloatArray | None], dim: int
) -> tuple[IntVector, npt.NDArray[np.float32]]:
    present = np.array([i for i, v in enumerate(vectors) if v is not None], dtype=np.int64)
    if present.size == 0:
        return present, np.zeros((0, dim), np.float32)
    return present, np.stack([vectors[i] for i in present.tolist()]).astype(np.float32)


def score_open_set(
    gallery: Gallery,
    mated_probes: Sequence[FloatArray | None],
    mated_identities: Sequence[str],
    nonmated_probes: Sequence[FloatArray | None],
) -> OpenSetScores:
    """Search every probe against ``gallery`` (``None`` = no face: counted, not searched)."""
    if len(mated_probes) != len(mated_identities):
        raise ValueError("one identity per mated probe is needed")
    column = {subject: i for i, subject in enumerate(gallery.subjects)}
    missing = sorted({m for m in mated_identities if m not in column})
    if missing:
        raise ValueError(f"mated probes of identities not on the watchlist: {missing[:5]}")
    mated_pos, mated_vecs = _stack(mated_probes, gallery.dim)
    non_pos, non_vecs = _stack(nonmated_probes, gallery.dim)
    mated_scores = gallery.subject_scores(mated_vecs).astype(np.float64)
    mate_cols = np.array([column[mated_identities[i]] for i in mated_pos.tolist()], dtype=np.int64)
    rows = np.arange(mate_cols.size)
    all_pos = np.arange(len(mated_probes))
    non_all = np.arange(len(nonmated_probes))
    return OpenSetScores(
        subjects=gallery.subjects,
        mated=mated_pos,
        mate_scores=mated_scores[rows, mate_cols] if mate_cols.size else np.zeros(0),
        mate_ranks=mate_ranks(mated_scores, mate_cols) if mate_cols.size else np.zeros(0, np.int64),
        mated_top_scores=mated_scores.max(axis=1) if mate_cols.size else np.zeros(0),
        mated_unacquired=np.setdiff1d(all_pos, mated_pos).astype(np.int64),
        nonmated=non_pos,
        nonmated_scores=gallery.subject_scores(non_vecs),
        nonmated_unacquired=np.setdiff1d(non_all, non_pos).astype(np.int64),
    )
