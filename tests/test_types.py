"""Typed containers validate their shapes and select rows consistently."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.types import Detections


def make(n: int) -> Detections:
    boxes = np.array([[i, i, i + 10, i + 20] for i in range(n)], np.float32).reshape(n, 4)
    return Detections(
        boxes=boxes,
        landmarks=np.zeros((n, 5, 2), np.float32),
        scores=np.linspace(0.5, 1.0, n, dtype=np.float32),
    )


@pytest.mark.parametrize("n", [0, 1, 3])
def test_length_iteration_and_sizes(n: int) -> None:
    dets = make(n)
    assert len(dets) == n
    assert [d.score for d in dets] == pytest.approx(list(dets.scores))
    assert dets.sizes.tolist() == [10.0] * n


def test_empty_is_zero_rows() -> None:
    assert len(Detections.empty()) == 0
    assert Detections.empty().boxes.shape == (0, 4)


def test_select_by_mask_and_index() -> None:
    dets = make(4)
    by_mask = dets.select(dets.scores > 0.9)
    assert len(by_mask) == 1 and by_mask.scores[0] == pytest.approx(1.0)
    by_index = dets.select([2, 0])
    assert by_index.boxes[:, 0].tolist() == [2.0, 0.0]


@pytest.mark.parametrize(
    ("boxes", "landmarks", "scores"),
    [
        ((2, 3), (2, 5, 2), (2,)),
        ((2, 4), (2, 4, 2), (2,)),
        ((2, 4), (2, 5, 2), (3,)),
    ],
)
def test_shape_mismatch_is_refused(
    boxes: tuple[int, ...], landmarks: tuple[int, ...], scores: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError):
        Detections(
            boxes=np.zeros(boxes, np.float32),
            landmarks=np.zeros(landmarks, np.float32),
            scores=np.zeros(scores, np.float32),
        )
