"""Best shot: rank a track's crops by quality and embed only the ones worth it.

The recogniser is the costliest stage (about 10 ms per face on one core,
against a few ms per frame for detection), so a track is embedded:

- at once, the first time it offers a usable crop (a fast first decision);
- at once, whenever a crop beats the best one embedded so far by ``min_gain``;
- otherwise, every ``relook_interval_s``, with the best crop seen since the
  last look, or the current one if it is nearly as good (so a steady face
  still gathers agreeing looks, on fresh evidence);
- never more than ``max_looks_per_track`` times, and never with a crop whose
  quality is below ``min_quality`` (blurred or tiny faces).

Crops wait here only in memory and only for the privacy retention window; so do
the embeddings of a track's looks when track fusion is on (:meth:`TrackShots.fuse`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from openlfr.config.pipeline import BestShotConfig
from openlfr.types import FaceCrop, FaceQuality, FloatArray, Look
from openlfr.vision.quality import pose_from_landmarks

# Quality saturates at these: beyond them a bigger or sharper face is not
# recognised measurably better by a 112x112 recogniser.
_FULL_SIZE_INTER_EYE_PX = 40.0
_FULL_SHARPNESS = 150.0
# A relook embeds the current crop instead of an older pending one when it is
# at least this good relative to it, keeping alert latency low.
_FRESH_SHARE = 0.9


def quality_score(q: FaceQuality) -> float:
    """One number in ``[0, 1]`` ranking crops of the same face for recognition.

    The product of the detector's confidence, size (inter-eye distance up to
    40 px), pose (cosines of yaw and pitch) and sharpness (square root of the
    Laplacian variance up to 150): a crop is only as good as its weakest part.
    """
    size = min(1.0, q.inter_eye_px / _FULL_SIZE_INTER_EYE_PX)
    pose = max(0.0, math.cos(math.radians(q.yaw))) * max(0.0, math.cos(math.radians(q.pitch)))
    sharp = min(1.0, math.sqrt(max(q.sharpness, 0.0) / _FULL_SHARPNESS))
    return float(np.clip(q.det_score, 0.0, 1.0)) * size * pose * sharp


def usable(landmarks: FloatArray, score: float, config: BestShotConfig) -> bool:
    """Cheap check from the landmarks alone, before a crop is cut: size, pose, confidence."""
    if score < config.min_det_score:
        return False
    if float(np.hypot(*(landmarks[1] - landmarks[0]))) < config.min_inter_eye_px:
        return False
    yaw, pitch, _ = pose_from_landmarks(landmarks)
    return abs(yaw) <= config.max_yaw_deg and abs(pitch) <= config.max_pitch_deg


@dataclass(frozen=True, slots=True)
class Shot:
    """A crop offered by a track, with when it was seen and when it entered memory."""

    crop: FaceCrop
    score: float
    seq: int
    captured_at: float
    held_since: float  # wall clock: what the retention window is measured on


@dataclass(slots=True)
class TrackShots:
    """One track's best-shot state: the pending best crop and the crops of its looks."""

    pending: Shot | None = None
    looks_taken: int = 0
    best_embedded: float = 0.0
    last_look_at: float | None = None
    done: bool = False
    last_seen: float = 0.0  # wall clock
    held: deque[tuple[Look, Shot]] = field(default_factory=deque)
    # Track fusion: (captured_at, held_since, weight, unit embedding) of each look.
    looked: deque[tuple[float, float, float, FloatArray]] = field(default_factory=deque)

    def offer(self, shot: Shot, config: BestShotConfig) -> Shot | None:
        """Consider a new crop; the shot to embed now, if any."""
        if self.done or self.looks_taken >= config.max_looks_per_track:
            return None
        if shot.score < config.min_quality:
            return None
        if self.pending is None or shot.score > self.pending.score:
            self.pending = shot
        best = self.pending
        due = (
            self.looks_taken == 0
            or best.score >= self.best_embedded * (1.0 + config.min_gain)
            or (
                self.last_look_at is not None
                and shot.captured_at - self.last_look_at >= config.relook_interval_s
            )
        )
        if not due:
            return None
        if shot.score >= _FRESH_SHARE * best.score:
            best = shot  # nearly as good and newer: the alert's evidence is fresher
        self.pending = None
        self.looks_taken += 1
        self.best_embedded = max(self.best_embedded, best.score)
        self.last_look_at = shot.captured_at
        return best

    def remember(self, look: Look, shot: Shot, limit: int) -> None:
        """Keep a look's crop (the alert's probe comes from these), at most ``limit``."""
        self.held.append((look, shot))
        while len(self.held) > limit:
            self.held.popleft()

    def fuse(self, embedding: FloatArray, shot: Shot, window_s: float) -> tuple[FloatArray, int]:
        """Add a look's embedding; the track's fused template and how many looks it fuses.

        The template is the quality-weighted mean of the unit embeddings of the track's
        looks captured within ``window_s`` of this one, scaled back to unit length: a
        sharp frontal look counts more than a blurred or turned one, and looks too old
        to vote no longer count.
        """
        self.looked.append((shot.captured_at, shot.held_since, max(shot.score, 1e-6), embedding))
        while self.looked and self.looked[0][0] < shot.captured_at - window_s:
            self.looked.popleft()
        total = sum(weight * vector for _, _, weight, vector in self.looked)
        norm = float(np.linalg.norm(total))
        return np.asarray(total / max(norm, 1e-12), dtype=np.float32), len(self.looked)

    def crop_of(self, look: Look) -> FaceCrop | None:
        return next((s.crop for x, s in self.held if x.seq == look.seq), None)

    def expire(self, horizon: float) -> None:
        """Drop every crop that entered memory before ``horizon`` (wall clock)."""
        if self.pending is not None and self.pending.held_since < horizon:
            self.pending = None
        while self.held and self.held[0][1].held_since < horizon:
            self.held.popleft()
        while self.looked and self.looked[0][1] < horizon:
            self.looked.popleft()

    def clear(self) -> None:
        self.pending = None
        self.held.clear()
        self.looked.clear()

    @property
    def crops_held(self) -> int:
        return len(self.held) + (self.pending is not None)

    @property
    def embeddings_held(self) -> int:
        return len(self.looked)
