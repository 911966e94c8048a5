"""The 1:1 verification protocol: score listed pairs, then per-fold accuracy as LFW reports it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openlfr.evaluation.datasets import ImagePair
from openlfr.types import FloatArray

FloatVector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PairScores:
    """Cosine scores of the pairs where both images yielded a face.

    Attributes:
        pairs: the scored pairs, in file order.
        scores: ``(P,)`` their scores.
        lost: pairs with no face in one image or both (failures to acquire).
    """

    pairs: tuple[ImagePair, ...]
    scores: FloatVector
    lost: tuple[ImagePair, ...]

    @property
    def genuine(self) -> npt.NDArray[np.bool_]:
        return np.array([p.genuine for p in self.pairs], dtype=bool)

    @property
    def folds(self) -> npt.NDArray[np.int64]:
        return np.array([p.fold for p in self.pairs], dtype=np.int64)


def score_pairs(pairs: Sequence[ImagePair], embeddings: Sequence[FloatArray | None]) -> PairScores:
    """Score every pair whose two images both have an embedding."""
    kept, scores, lost = [], [], []
    for pair in pairs:
        a, b = embeddings[pair.first], embeddings[pair.second]
        if a is None or b is None:
            lost.append(pair)
            continue
        kept.append(pair)
        scores.append(float(np.dot(a, b)))
    return PairScores(tuple(kept), np.asarray(scores, dtype=np.float64), tuple(lost))


def accuracy_at(scores: FloatVector, genuine: npt.NDArray[np.bool_], threshold: float) -> float:
    """Share of pairs decided correctly (``>=`` threshold means "same person"); NaN if none."""
    if scores.size == 0:
        return float("nan")
    return float(np.mean((scores >= threshold) == genuine))


def best_accuracy_threshold(scores: FloatVector, genuine: npt.NDArray[np.bool_]) -> float:
    """The threshold that decides most pairs correctly (midway between neighbouring scores).

    Candidates are every midpoint between consecutive distinct scores plus one
    below the lowest and one above the highest; on a tie the lowest wins.
    """
    if scores.size == 0:
        return float("nan")
    distinct = np.unique(scores)
    candidates = np.concatenate(
        [[distinct[0] - 1e-6], (distinct[:-1] + distinct[1:]) / 2, [distinct[-1] + 1e-6]]
    )
    # Vectorised: correct = genuine at/above + impostors below, via sorted counts.
    gen = np.sort(scores[genuine])
    imp = np.sort(scores[~genuine])
    correct = (gen.size - np.searchsorted(gen, candidates, side="left")) + np.searchsorted(
        imp, candidates, side="left"
    )
    return float(candidates[int(np.argmax(correct))])


@dataclass(frozen=True, slots=True)
class FoldAccuracy:
    """Accuracy on one fold at the threshold chosen on all the other folds."""

    fold: int
    threshold: float
    accuracy: float
    pairs: int


def fold_accuracies(scores: PairScores) -> list[FoldAccuracy]:
    """LFW's protocol: for each fold, pick the threshold on the others, measure on it.

    With a single fold there is nothing to choose on, so the threshold is chosen
    on that fold itself (optimistic; the report says so).
    """
    folds = scores.folds
    genuine = scores.genuine
    out = []
    unique = sorted(set(folds.tolist()))
    for fold in unique:
        test = folds == fold
        train = ~test if len(unique) > 1 else test
        threshold = best_accuracy_threshold(scores.scores[train], genuine[train])
        out.append(
            FoldAccuracy(
                fold=fold,
                threshold=threshold,
                accuracy=accuracy_at(scores.scores[test], genuine[test], threshold),
                pairs=int(test.sum()),
            )
        )
    return out
