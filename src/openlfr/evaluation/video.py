"""Clip-level evaluation on video: which watchlist subjects each clip raises, against who appears.

Every clip is sampled at a fixed rate; every face in every sampled frame is
searched against a watchlist built from labelled stills (all photos with a face
of each identity). A subject is **raised** by a clip at threshold ``t`` when any
face in any sampled frame scores ``>= t`` against it (the most permissive
decision rule: a live pipeline that votes over a track raises no more than
this). For each clip and threshold:

- a **true alert**: a subject raised who is listed as appearing;
- a **missed** subject: listed as appearing, on the watchlist, not raised;
- a **false alert**: a subject raised who is not listed as appearing.

People listed as appearing but not on the watchlist cannot be raised and are
only reported. Clips are few, so the results are counts, not rates with
intervals; they show behaviour on real footage, not accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from openlfr.evaluation.cache import EmbeddingCache, image_digest
from openlfr.evaluation.datasets import LabelledVideo, RowProblem
from openlfr.evaluation.extraction import ProgressCallback
from openlfr.evaluation.faces import AcquisitionStatus, ImageFaces
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.gallery import Gallery

FloatVector = npt.NDArray[np.float64]


class VideoError(ValueError):
    """A clip that cannot be opened or decoded."""


@dataclass(frozen=True, slots=True)
class ClipFaces:
    """The faces found in the sampled frames of one clip."""

    video: LabelledVideo
    frames: tuple[int, ...]
    faces: tuple[ImageFaces, ...]


def _frame_faces(pack: ModelPack, frame: npt.NDArray[np.uint8]) -> ImageFaces:
    height, width = frame.shape[:2]
    detections = pack.detect(frame)
    if len(detections) == 0:
        return ImageFaces.failed(AcquisitionStatus.NO_FACE, pack.recogniser.dim, width, height)
    faces = pack.embed(pack.crops(frame, detections))
    return ImageFaces(
        status=AcquisitionStatus.OK,
        width=width,
        height=height,
        boxes=detections.boxes,
        landmarks=detections.landmarks,
        scores=detections.scores,
        embeddings=np.stack([f.embedding for f in faces]).astype(np.float32),
    )


def sample_clip(
    pack: ModelPack,
    video: LabelledVideo,
    *,
    per_second: float,
    cache: EmbeddingCache | None,
    progress: ProgressCallback | None = None,
) -> ClipFaces:
    """Detect and embed every face in frames sampled ``per_second`` times a second.

    Frames are addressed in the cache by the clip's digest and the frame number,
    so a second run decodes the clip but runs no model.
    """
    digest = image_digest(video.path.read_bytes())
    capture = cv2.VideoCapture(str(video.path))
    if not capture.isOpened():
        raise VideoError(f"{video.file}: cannot be opened as a video")
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 0
        step = max(1, round(fps / per_second))
        frames: list[int] = []
        found: list[ImageFaces] = []
        index = 0
        cached = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                key = f"{digest}-{index:07d}"
                faces = cache.get(key) if cache is not None else None
                if faces is None:
                    faces = _frame_faces(pack, np.ascontiguousarray(frame, dtype=np.uint8))
                    if cache is not None:
                        cache.put(key, faces)
                else:
                    cached += 1
                frames.append(index)
                found.append(faces)
                if progress is not None:
                    progress(index + 1, max(total, index + 1), cached)
            index += 1
    finally:
        capture.release()
    if not frames:
        raise VideoError(f"{video.file}: no frame could be decoded")
    return ClipFaces(video, tuple(frames), tuple(found))


@dataclass(frozen=True, slots=True)
class ClipResult:
    """One clip's outcome at every threshold of the sweep.

    Attributes:
        expected: listed as appearing and on the watchlist.
        expected_elsewhere: listed as appearing but not on the watchlist.
        best_scores: each subject's best score over all faces and frames, high first
            (the top few only).
        true_alerts, missed, false_alerts: ``(T,)`` counts per threshold.
        raised_at_configured: subjects raised at the configured threshold.
    """

    file: str
    frames_sampled: int
    faces_found: int
    expected: tuple[str, ...]
    expected_elsewhere: tuple[str, ...]
    best_scores: tuple[tuple[str, float], ...]
    true_alerts: npt.NDArray[np.int64]
    missed: npt.NDArray[np.int64]
    false_alerts: npt.NDArray[np.int64]
    raised_at_configured: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VideoReport:
    """Clip-level results against a watchlist of stills."""

    watchlist_source: str
    watchlist_size: int
    per_second: float
    thresholds: FloatVector
    clips: tuple[ClipResult, ...]
    problems: tuple[RowProblem, ...]

    def totals(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(true alerts, missed, false alerts)`` summed over clips, per threshold."""
        zero = np.zeros(self.thresholds.size, np.int64)
        return (
            sum((c.true_alerts for c in self.clips), zero),
            sum((c.missed for c in self.clips), zero),
            sum((c.false_alerts for c in self.clips), zero),
        )


def score_clip(
    clip: ClipFaces, gallery: Gallery, thresholds: npt.ArrayLike, configured: float
) -> ClipResult:
    """Best score per subject over the clip, then alerts, misses and false alerts per threshold."""
    t = np.asarray(thresholds, dtype=np.float64)
    vectors = [f.embeddings for f in clip.faces if len(f)]
    best = np.full(len(gallery.subjects), -np.inf)
    if vectors:
        best = gallery.subject_scores(np.concatenate(vectors)).max(axis=0).astype(np.float64)
    subjects = gallery.subjects
    expected = tuple(s for s in clip.video.identities if s in subjects)
    elsewhere = tuple(s for s in clip.video.identities if s not in subjects)
    is_expected = np.array([s in expected for s in subjects], dtype=bool)
    raised = best[:, None] >= t[None, :]  # (S, T)
    order = np.argsort(-best, kind="stable")[:5]
    return ClipResult(
        file=clip.video.file,
        frames_sampled=len(clip.frames),
        faces_found=sum(len(f) for f in clip.faces),
        expected=expected,
        expected_elsewhere=elsewhere,
        best_scores=tuple((subjects[i], float(best[i])) for i in order if np.isfinite(best[i])),
        true_alerts=(raised & is_expected[:, None]).sum(axis=0).astype(np.int64),
        missed=(~raised & is_expected[:, None]).sum(axis=0).astype(np.int64),
        false_alerts=(raised & ~is_expected[:, None]).sum(axis=0).astype(np.int64),
        raised_at_configured=tuple(
            s for s, b in zip(subjects, best, strict=True) if b >= configured
        ),
    )


def video_report(
    clips: Sequence[ClipFaces],
    gallery: Gallery,
    *,
    watchlist_source: str,
    per_second: float,
    thresholds: npt.ArrayLike,
    configured: float,
    problems: Sequence[RowProblem] = (),
) -> VideoReport:
    """Score every sampled clip against ``gallery`` (see the module docstring)."""
    return VideoReport(
        watchlist_source=watchlist_source,
        watchlist_size=len(gallery),
        per_second=per_second,
        thresholds=np.asarray(thresholds, dtype=np.float64),
        clips=tuple(score_clip(c, gallery, thresholds, configured) for c in clips),
        problems=tuple(problems),
    )
