"""Best shot: which crops are embedded, how often, and how long they stay in memory."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.config.pipeline import BestShotConfig
from openlfr.stream.bestshot import Shot, TrackShots, quality_score, usable
from openlfr.types import Candidate, Detection, FaceCrop, FaceQuality, Look

CFG = BestShotConfig(min_gain=0.25, relook_interval_s=0.5, max_looks_per_track=3, min_quality=0.1)


def shot(score: float, t: float, seq: int = 0, held_since: float = 0.0) -> Shot:
    crop = FaceCrop(
        np.zeros((112, 112, 3), np.uint8),
        Detection(np.zeros(4, np.float32), np.zeros((5, 2), np.float32), 0.9),
        FaceQuality(40, 200, 0, 0, 0, 0.9),
    )
    return Shot(crop, score, seq, t, held_since)


def test_quality_score_orders_crops_sensibly() -> None:
    good = FaceQuality(40, 200, 0, 0, 0, 0.95)
    assert quality_score(good) == pytest.approx(0.95)
    assert quality_score(FaceQuality(20, 200, 0, 0, 0, 0.95)) < quality_score(good)
    assert quality_score(FaceQuality(40, 200, 60, 0, 0, 0.95)) < quality_score(good)
    assert quality_score(FaceQuality(40, 5, 0, 0, 0, 0.95)) < quality_score(good)
    assert quality_score(FaceQuality(40, 200, 90, 0, 0, 0.95)) == pytest.approx(0.0, abs=1e-9)


def test_usable_checks_size_pose_and_score_from_landmarks() -> None:
    frontal = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float32)
    cfg = BestShotConfig(min_inter_eye_px=10, min_det_score=0.6, max_yaw_deg=45)
    assert usable(frontal, 0.9, cfg)
    assert not usable(frontal, 0.5, cfg)
    assert not usable(frontal * 0.2, 0.9, cfg)  # 8 px between the eyes
    profile = frontal.copy()
    profile[2, 0] = 72  # nose beyond the far eye
    assert not usable(profile, 0.9, cfg)


def test_first_usable_crop_is_embedded_at_once() -> None:
    track = TrackShots()
    assert track.offer(shot(0.3, 0.0, seq=1), CFG) is not None
    assert track.looks_taken == 1


def test_crops_below_min_quality_are_never_embedded() -> None:
    track = TrackShots()
    assert track.offer(shot(0.05, 0.0), CFG) is None
    assert track.pending is None and track.looks_taken == 0


def test_only_materially_better_crops_are_embedded_before_the_relook_interval() -> None:
    track = TrackShots()
    track.offer(shot(0.4, 0.0, seq=1), CFG)
    assert track.offer(shot(0.45, 0.04, seq=2), CFG) is None  # 12% better: waits
    chosen = track.offer(shot(0.52, 0.08, seq=3), CFG)  # 30% better: now
    assert chosen is not None and chosen.seq == 3


def test_relook_takes_the_best_crop_since_the_last_look() -> None:
    track = TrackShots()
    track.offer(shot(0.6, 0.0, seq=1), CFG)
    assert track.offer(shot(0.62, 0.2, seq=2), CFG) is None
    assert track.offer(shot(0.5, 0.4, seq=3), CFG) is None
    chosen = track.offer(shot(0.3, 0.55, seq=4), CFG)
    assert chosen is not None and chosen.seq == 2


def test_relook_prefers_the_current_crop_when_nearly_as_good() -> None:
    track = TrackShots()
    track.offer(shot(0.6, 0.0, seq=1), CFG)
    assert track.offer(shot(0.62, 0.2, seq=2), CFG) is None
    chosen = track.offer(shot(0.58, 0.55, seq=3), CFG)  # 94% of the pending best, and newer
    assert chosen is not None and chosen.seq == 3


def test_the_per_track_cap_is_respected() -> None:
    track = TrackShots()
    taken = [track.offer(shot(0.5, 0.6 * i, seq=i), CFG) for i in range(10)]
    assert sum(x is not None for x in taken) == CFG.max_looks_per_track


def test_expire_drops_crops_older_than_the_horizon() -> None:
    track = TrackShots()
    first = shot(0.5, 0.0, seq=1, held_since=10.0)
    track.offer(first, CFG)
    look = Look("c", 1, 1, 0.0, first.crop.quality, 0.5, Candidate("s", 0.3, 1))
    track.remember(look, first, limit=3)
    track.offer(shot(0.55, 0.1, seq=2, held_since=12.0), CFG)  # pending, not embedded
    assert track.crops_held == 2
    assert track.crop_of(look) is first.crop
    track.expire(horizon=11.0)
    assert track.crops_held == 1 and track.crop_of(look) is None
    track.expire(horizon=13.0)
    assert track.crops_held == 0
