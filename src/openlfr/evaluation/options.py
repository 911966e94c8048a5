"""What an evaluation run is asked to do: protocols, data, groups, thresholds, statistics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from openlfr.evaluation.extraction import ProgressCallback
from openlfr.evaluation.faces import FaceRule
from openlfr.evaluation.intervals import IntervalMethod

DEFAULT_REPORT_THRESHOLDS = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70)
SWEEP_STEP = 0.01


class Protocol(StrEnum):
    """Which protocol to run."""

    PAIRS = "pairs"
    OPEN_SET = "open-set"
    VIDEO = "video"


# (label, total) -> a per-image progress callback; the CLI supplies a Rich bar.
ProgressFactory = Callable[[str, int], ProgressCallback]


@dataclass(frozen=True, slots=True)
class EvaluationOptions:
    """Everything a run needs to know besides the models.

    Attributes:
        dataset: image folder; ``labels`` defaults to ``dataset/labels.csv``.
        pairs: an LFW-style pairs file, for the ``pairs`` protocol.
        protocols: which protocols to run.
        groups: groupings to break results down by: a column (``sex``) or a joint
            grouping of columns (``sex*ethnicity``).
        exclude: ``(column, value)`` rows to leave out of every dataset (e.g.
            ``("age_band", "0-17")``), each counted as a skipped row.
        nonmated_dataset: a second image folder whose people are all non-mated
            (e.g. UTKFace against an LFW watchlist); replaces the non-mated
            searches drawn from ``dataset``.
        references_per_identity: photos enrolled per watchlist subject.
        nonmated_share: share of enrollable identities held out as non-mated.
        seed: fixes the split, bootstraps and permutations.
        thresholds: the thresholds tabulated in the report (the sweep covers 0–1).
        face_rule: which face in a photo carries its label.
        pad, nonmated_pad: border added around each image before detection
            (share of the longer side), per dataset.
        watchlist_sizes: sizes to project FPIR to, besides the measured one.
        use_cache: read and write the encrypted embedding cache.
        videos: a CSV of clips and who appears in each, for the ``video`` protocol
            (its watchlist is every photo with a face in ``dataset``).
        video_fps: frames sampled per second of video.
        aliases: a CSV of identity merges for known label errors (see
            :func:`~openlfr.evaluation.datasets.read_aliases`), applied to ``dataset``.
        reviewed: a CSV of reviewed cross-set pairs (see
            :func:`~openlfr.evaluation.screening.read_review`): photos of
            ``nonmated_dataset`` reviewed as showing a watchlist person are left out
            of the non-mated searches.
        review_count: how many of the highest cross-set scores the report lists
            for review, both photos side by side.
    """

    dataset: Path
    labels: Path | None = None
    pairs: Path | None = None
    protocols: tuple[Protocol, ...] = (Protocol.OPEN_SET,)
    groups: tuple[str, ...] = ()
    exclude: tuple[tuple[str, str], ...] = ()
    nonmated_dataset: Path | None = None
    nonmated_labels: Path | None = None
    references_per_identity: int = 1
    nonmated_share: float = 0.0
    seed: int = 0
    thresholds: tuple[float, ...] = DEFAULT_REPORT_THRESHOLDS
    face_rule: FaceRule = FaceRule.CENTRE
    pad: float = 0.0
    nonmated_pad: float = 0.0
    interval: IntervalMethod = IntervalMethod.CLOPPER_PEARSON
    alpha: float = 0.05
    watchlist_sizes: tuple[int, ...] = (1000, 10000)
    use_cache: bool = True
    aliases: Path | None = None
    reviewed: Path | None = None
    review_count: int = 40
    videos: Path | None = None
    video_fps: float = 2.0
    command: str = ""
    extra_caveats: tuple[str, ...] = field(default_factory=tuple)


def sweep_thresholds(report: Sequence[float], configured: float) -> np.ndarray:
    """0.00–1.00 in steps of 0.01, plus every tabulated threshold and the configured one."""
    grid = np.round(np.arange(0, round(1 / SWEEP_STEP) + 1) * SWEEP_STEP, 6)
    extra = np.round(np.array([*report, configured], dtype=np.float64), 6)
    return np.unique(np.concatenate([grid, extra]))
