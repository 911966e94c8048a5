"""Windows around expected faces: geometry, mapping back, and YuNet on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.config import DetectorConfig, RuntimeConfig
from openlfr.types import Detections
from openlfr.vision import ModelPack, YuNetDetector
from openlfr.vision.regions import cut, merge, to_image, windows_around
from openlfr.vision.weights import YUNET_2023MAR

SORKIN = "lfw-dev/images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg"


def one(box: list[float], score: float = 0.9) -> Detections:
    x1, y1, x2, y2 = box
    marks = np.array([[x1 + (x2 - x1) * f, (y1 + y2) / 2] for f in (0.3, 0.7, 0.5, 0.35, 0.65)])
    return Detections(
        boxes=np.array([box], np.float32),
        landmarks=marks[None].astype(np.float32),
        scores=np.array([score], np.float32),
    )


def test_windows_are_centred_squares_scaled_from_the_longer_side() -> None:
    w = windows_around(
        np.array([[100, 200, 140, 260]], np.float32), scale=2.0, size=128, min_side=32
    )
    assert w.sides.tolist() == [120.0]  # 2 x the 60 px height
    np.testing.assert_allclose(w.origins[0], [120 - 60, 230 - 60])
    tiny = windows_around(np.array([[0, 0, 4, 4]], np.float32), scale=2.0, size=128, min_side=32)
    assert tiny.sides.tolist() == [32.0]
    assert len(windows_around(np.zeros((0, 4), np.float32), scale=2, size=128, min_side=32)) == 0


def test_patch_pixels_map_back_to_image_pixels() -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[100:140, 200:240] = 255  # a white square where the "face" is
    w = windows_around(
        np.array([[200, 100, 240, 140]], np.float32), scale=2.0, size=128, min_side=32
    )
    patch = cut(image, w)[0]
    ys, xs = np.nonzero(patch[:, :, 0] > 127)
    # 80 px window -> 128 px patch: the square fills the central half.
    assert 30 <= xs.min() <= 34 and 93 <= xs.max() <= 97 and 30 <= ys.min() <= 34
    back = to_image(one([32.0, 32.0, 96.0, 96.0]), w, 0)
    np.testing.assert_allclose(back.boxes[0], [200, 100, 240, 140], atol=1e-3)
    np.testing.assert_allclose(back.landmarks[0, 0], [200 + 40 * 0.3, 120], atol=1e-3)


def test_windows_past_the_image_edge_are_black_outside() -> None:
    image = np.full((100, 100, 3), 200, np.uint8)
    w = windows_around(np.array([[-10, -10, 30, 30]], np.float32), scale=2.0, size=64, min_side=16)
    patch = cut(image, w)[0]
    assert patch[0, 0].tolist() == [0, 0, 0] and patch[63, 63].tolist() == [200, 200, 200]


def test_faces_cut_by_a_window_edge_are_left_to_other_windows() -> None:
    w = windows_around(np.array([[0, 0, 64, 64]], np.float32), scale=2.0, size=128, min_side=32)
    assert len(to_image(one([0.0, 0.0, 30.0, 30.0]), w, 0)) == 0  # centre in the outer ring
    assert len(to_image(one([40.0, 40.0, 90.0, 90.0]), w, 0)) == 1


def test_merge_keeps_one_of_a_face_seen_by_two_windows() -> None:
    a, b = one([10, 10, 50, 50], 0.9), one([11, 10, 51, 50], 0.8)
    other = one([200, 200, 240, 240], 0.7)
    merged = merge([a, b, other, Detections.empty()], 0.3, 100)
    assert sorted(merged.scores.tolist()) == pytest.approx([0.7, 0.9])
    assert len(merge([], 0.3, 100)) == 0


@pytest.mark.realdata
def test_yunet_finds_the_same_face_in_a_window_as_in_the_whole_frame(
    shared_data: Path, pack: ModelPack
) -> None:
    face = cv2.imread(str(shared_data / SORKIN))
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    frame[600:850, 1200:1450] = face  # one real face in a large grey frame
    detector = pack.detector
    assert isinstance(detector, YuNetDetector)
    whole = detector.detect(frame)
    assert len(whole) == 1
    # The tracker's prediction is off by a few pixels: the window still finds the face.
    predicted = whole.boxes + np.array([8, -6, 8, -6], np.float32)
    near = detector.detect_around(frame, predicted)
    assert len(near) == 1
    # A window sees the face larger than the shrunk whole frame does: its landmarks agree
    # with a native-resolution pass to within a fifth of the eye distance (the nose moves most).
    native = YuNetDetector(
        YUNET_2023MAR.locate(), DetectorConfig(input_width=0), RuntimeConfig()
    ).detect(frame)
    inter_eye = float(np.hypot(*(native.landmarks[0, 1] - native.landmarks[0, 0])))
    np.testing.assert_allclose(near.landmarks[0], native.landmarks[0], atol=0.2 * inter_eye)
    assert near.scores[0] >= 0.6
    # Nothing where nobody is; several windows run as one batch with the same answer.
    assert len(detector.detect_around(frame, np.array([[100, 100, 200, 200]], np.float32))) == 0
    boxes = np.concatenate([predicted, [[100, 100, 200, 200]], predicted + 20])
    batched = detector.detect_around(frame, boxes)
    assert len(batched) == 1
    np.testing.assert_allclose(batched.boxes[0], near.boxes[0], atol=3.0)
    assert len(detector.detect_around(frame, np.zeros((0, 4), np.float32))) == 0
