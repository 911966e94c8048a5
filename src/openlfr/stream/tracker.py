"""ByteTrack-style face tracker: Kalman motion, IoU cost, Hungarian, two-stage association.

No packaged tracker fitted: ``supervision`` 0.31 no longer ships one and the
``trackers`` package that replaced it requires ``opencv-python``, a second
OpenCV build that clashes with ``opencv-python-headless``. This is the
ByteTrack algorithm (Zhang et al., 2022) reduced to what faces need:

1. every track's box is predicted to the frame's capture time;
2. strong detections are assigned to running and recently lost tracks
   (Hungarian on ``1 - IoU``);
3. weak detections may only extend running tracks left unmatched, with a
   stricter overlap, so a face that blurs or turns for a few frames keeps its
   track but weak detections never start one;
4. strong detections left over confirm tentative tracks or start new ones;
5. tracks unmatched for ``lost_ttl_s`` end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.optimize import linear_sum_assignment

from openlfr.config.pipeline import TrackerConfig
from openlfr.stream.kalman import BoxKalman
from openlfr.types import Detections, FloatArray, Track


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """``(len(a), len(b))`` intersection over union of two sets of ``x1, y1, x2, y2`` boxes."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(inter / np.maximum(union, 1e-9), dtype=np.float32)


def assign(iou: FloatArray, min_iou: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian assignment maximising IoU; pairs below ``min_iou`` are refused.

    Returns the matched ``(row, col)`` pairs and the unmatched rows and columns.
    """
    rows, cols = iou.shape
    if rows == 0 or cols == 0:
        return [], list(range(rows)), list(range(cols))
    r_idx, c_idx = linear_sum_assignment(1.0 - iou)
    pairs = [(int(r), int(c)) for r, c in zip(r_idx, c_idx, strict=True) if iou[r, c] >= min_iou]
    matched_r = {r for r, _ in pairs}
    matched_c = {c for _, c in pairs}
    return (
        pairs,
        [r for r in range(rows) if r not in matched_r],
        [c for c in range(cols) if c not in matched_c],
    )


class _State(Enum):
    TENTATIVE = "tentative"
    TRACKED = "tracked"
    LOST = "lost"


@dataclass(slots=True)
class _Track:
    track_id: int
    kalman: BoxKalman
    state: _State
    hits: int
    first_seen_at: float
    last_seen_at: float
    predicted_at: float


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """What one frame did to the tracks.

    Attributes:
        active: confirmed tracks matched in this frame, one per detection they own.
        ended: ids of confirmed tracks that ended in this frame (their state can go).
    """

    active: tuple[Track, ...]
    ended: tuple[int, ...]


class ByteTracker:
    """Associates each camera's detections into tracks. One instance per camera.

    Example:
        >>> tracker = ByteTracker(TrackerConfig(), camera_id="cam0")
        >>> update = tracker.update(Detections.empty(), now=0.0)
        >>> update.active, update.ended
        ((), ())
    """

    def __init__(self, config: TrackerConfig, camera_id: str = "camera") -> None:
        self.config = config
        self.camera_id = camera_id
        self._tracks: list[_Track] = []
        self._next_id = 1
        self.tracks_confirmed = 0

    @property
    def live_count(self) -> int:
        """Tracks held (tentative, running or recently lost)."""
        return len(self._tracks)

    def predicted_boxes(self, now: float) -> FloatArray:
        """``(N, 4)`` where every held track's face is expected at ``now`` (the next frame's
        capture time): where to look for faces between full-frame detections.

        Moves the tracks' motion models to ``now``; :meth:`update` at the same ``now``
        then predicts nothing more.
        """
        for track in self._tracks:
            track.kalman.predict(now - track.predicted_at)
            track.predicted_at = now
        return self._boxes(self._tracks)

    def reset(self) -> tuple[int, ...]:
        """Forget every track (a stream gap); the confirmed ones that ended."""
        ended = tuple(t.track_id for t in self._tracks if t.state is not _State.TENTATIVE)
        self._tracks = []
        return ended

    def update(self, detections: Detections, now: float) -> TrackUpdate:
        """Associate one frame's detections, captured at ``now`` (seconds)."""
        cfg = self.config
        for track in self._tracks:
            track.kalman.predict(now - track.predicted_at)
            track.predicted_at = now
        scores = detections.scores
        high = np.nonzero(scores >= cfg.high_score)[0]
        low = np.nonzero(scores < cfg.high_score)[0]
        owner: dict[int, _Track] = {}  # detection row -> track

        # Stage 1: strong detections against running and lost tracks.
        pool = [t for t in self._tracks if t.state is not _State.TENTATIVE]
        pairs, free_tracks, free_high = assign(
            iou_matrix(self._boxes(pool), detections.boxes[high]), cfg.match_iou
        )
        for r, c in pairs:
            owner[int(high[c])] = pool[r]
        # Stage 2: weak detections may only extend tracks that were running.
        running = [pool[r] for r in free_tracks if pool[r].state is _State.TRACKED]
        pairs, _, _ = assign(
            iou_matrix(self._boxes(running), detections.boxes[low]), cfg.low_match_iou
        )
        for r, c in pairs:
            owner[int(low[c])] = running[r]
        # Stage 3: leftover strong detections confirm tentative tracks.
        tentative = [t for t in self._tracks if t.state is _State.TENTATIVE]
        leftover = high[free_high]
        pairs, _, free_left = assign(
            iou_matrix(self._boxes(tentative), detections.boxes[leftover]), cfg.match_iou
        )
        for r, c in pairs:
            owner[int(leftover[c])] = tentative[r]

        matched = {id(t) for t in owner.values()}
        for row, track in owner.items():
            track.kalman.update(detections.boxes[row])
            track.hits += 1
            track.last_seen_at = now
            if track.state is _State.TENTATIVE and track.hits >= cfg.min_hits:
                self.tracks_confirmed += 1
                track.state = _State.TRACKED
            elif track.state is _State.LOST:
                track.state = _State.TRACKED
        for row in leftover[free_left]:
            if scores[row] >= cfg.new_track_score:
                self._start(detections, int(row), now, owner)

        ended: list[int] = []
        kept: list[_Track] = []
        for track in self._tracks:
            if id(track) not in matched and track.last_seen_at < now:
                if track.state is _State.TENTATIVE:
                    continue  # never confirmed: nothing downstream knows it
                track.state = _State.LOST
                if now - track.last_seen_at > cfg.lost_ttl_s:
                    ended.append(track.track_id)
                    continue
            kept.append(track)
        self._tracks = kept

        active = tuple(
            Track(
                track_id=t.track_id,
                camera_id=self.camera_id,
                box=detections.boxes[row].copy(),
                det_index=row,
                score=float(scores[row]),
                hits=t.hits,
                first_seen_at=t.first_seen_at,
                last_seen_at=now,
            )
            for row, t in sorted(owner.items())
            if t.state is _State.TRACKED
        )
        return TrackUpdate(active=active, ended=tuple(ended))

    def _start(
        self, detections: Detections, row: int, now: float, owner: dict[int, _Track]
    ) -> None:
        state = _State.TRACKED if self.config.min_hits <= 1 else _State.TENTATIVE
        track = _Track(
            track_id=self._next_id,
            kalman=BoxKalman(detections.boxes[row]),
            state=state,
            hits=1,
            first_seen_at=now,
            last_seen_at=now,
            predicted_at=now,
        )
        self._next_id += 1
        if state is _State.TRACKED:
            self.tracks_confirmed += 1
        self._tracks.append(track)
        owner[row] = track

    @staticmethod
    def _boxes(tracks: list[_Track]) -> FloatArray:
        if not tracks:
            return np.zeros((0, 4), np.float32)
        return np.stack([t.kalman.box for t in tracks]).astype(np.float32)
