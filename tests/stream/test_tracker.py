"""The ByteTrack-style tracker on synthetic detections: identities, gaps, weak detections."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.config.pipeline import TrackerConfig
from openlfr.stream.tracker import ByteTracker, assign, iou_matrix
from openlfr.types import Detections

FPS = 25.0


def dets(
    boxes: list[tuple[float, float, float, float]], scores: list[float] | None = None
) -> Detections:
    n = len(boxes)
    b = np.asarray(boxes, np.float32).reshape(n, 4)
    lm = np.zeros((n, 5, 2), np.float32)
    s = np.asarray(scores if scores is not None else [0.95] * n, np.float32)
    return Detections(boxes=b, landmarks=lm, scores=s)


def box(x: float, y: float, size: float = 40.0) -> tuple[float, float, float, float]:
    return (x, y, x + size, y + size)


def ids_of(update: object) -> dict[int, int]:
    return {t.det_index: t.track_id for t in update.active}  # type: ignore[attr-defined]


def test_iou_and_assignment_edge_cases() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    assert iou_matrix(a, np.zeros((0, 4), np.float32)).shape == (1, 0)
    assert iou_matrix(a, a)[0, 0] == pytest.approx(1.0)
    assert iou_matrix(a, np.array([[5, 0, 15, 10]], np.float32))[0, 0] == pytest.approx(1 / 3)
    pairs, rows, cols = assign(np.array([[0.9, 0.1], [0.8, 0.05]], np.float32), 0.2)
    assert pairs == [(0, 0)] and rows == [1] and cols == [1]
    assert assign(np.zeros((0, 3), np.float32), 0.2) == ([], [], [0, 1, 2])


def test_empty_frames_produce_nothing() -> None:
    tracker = ByteTracker(TrackerConfig())
    update = tracker.update(Detections.empty(), 0.0)
    assert update.active == () and update.ended == ()


def test_two_moving_faces_keep_their_ids_and_confirm_after_min_hits() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=2), camera_id="cam")
    first = tracker.update(dets([box(100, 100), box(400, 100)]), 0.0)
    assert first.active == ()  # tentative until seen twice
    seen: dict[int, set[int]] = {0: set(), 1: set()}
    for i in range(1, 40):
        t = i / FPS
        # Face 0 walks right 4 px/frame, face 1 walks left; rows are shuffled.
        frame = dets([box(400 - 4 * i, 100), box(100 + 4 * i, 100)])
        update = tracker.update(frame, t)
        assert all(track.camera_id == "cam" for track in update.active)
        for row, tid in ids_of(update).items():
            seen[1 - row].add(tid)
    # They pass through each other near i = 37; before that each kept one id.
    assert len(seen[0]) == 1 and len(seen[1]) == 1 and seen[0] != seen[1]
    assert tracker.tracks_confirmed == 2


def test_a_short_occlusion_keeps_the_id_and_a_long_one_ends_the_track() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1, lost_ttl_s=0.5))
    tid = ids_of(tracker.update(dets([box(100, 100)]), 0.0))[0]
    for i in range(1, 6):  # moving at 2 px/frame
        tracker.update(dets([box(100 + 2 * i, 100)]), i / FPS)
    for i in range(6, 11):  # hidden for 0.2 s
        assert tracker.update(Detections.empty(), i / FPS).ended == ()
    back = tracker.update(dets([box(100 + 2 * 11, 100)]), 11 / FPS)
    assert ids_of(back) == {0: tid}
    ended: list[int] = []
    for i in range(12, 40):
        ended += tracker.update(Detections.empty(), i / FPS).ended
    assert ended == [tid]
    assert tracker.live_count == 0


def test_weak_detections_extend_tracks_but_never_start_them() -> None:
    cfg = TrackerConfig(min_hits=1, high_score=0.75, new_track_score=0.8)
    tracker = ByteTracker(cfg)
    assert tracker.update(dets([box(100, 100)], [0.65]), 0.0).active == ()
    assert tracker.live_count == 0
    tid = ids_of(tracker.update(dets([box(300, 300)], [0.9]), 0.04))[0]
    weak = tracker.update(dets([box(301, 300)], [0.62]), 0.08)
    assert ids_of(weak) == {0: tid}


def test_a_new_face_gets_a_new_id() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1))
    a = ids_of(tracker.update(dets([box(100, 100)]), 0.0))[0]
    update = tracker.update(dets([box(101, 100), box(600, 300)]), 0.04)
    ids = ids_of(update)
    assert ids[0] == a and ids[1] != a


def test_reset_reports_confirmed_tracks_as_ended() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1))
    tracker.update(dets([box(100, 100), box(300, 100)]), 0.0)
    assert sorted(tracker.reset()) == [1, 2]
    assert tracker.live_count == 0
