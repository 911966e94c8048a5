"""Tightly cropped photos: faces detected again with a border keep their true pose."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.config import EnrolmentConfig
from openlfr.types import Detections, ImageArray
from openlfr.vision import FaceDetector, ModelPack
from openlfr.vision.context import detect_with_context, near_edge
from openlfr.vision.quality import pose_from_landmarks
from openlfr.watchlist import QualityGate

# Two lfw-dev portraits whose centre, cut to the face alone at run time, YuNet reads as
# turned far sideways (47° and 32°) although the whole photo shows the face near frontal.
TIGHT_CROPS = [("Dan_Wheldon", (100, 120)), ("John_Stockton", (100, 120))]


def _centre_face_yaw(pack: ModelPack, image: ImageArray) -> float:
    found = pack.detect(image)
    centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2
    middle = np.array(image.shape[1::-1], np.float32) / 2
    index = int(np.argmin(((centres - middle) ** 2).sum(axis=1)))
    return pose_from_landmarks(found.landmarks[index])[0]


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "size"), TIGHT_CROPS)
def test_a_tight_crop_is_enrolled_with_the_pose_of_the_whole_photo(
    pack: ModelPack, shared_data: Path, name: str, size: tuple[int, int]
) -> None:
    photo = cv2.imread(str(shared_data / "lfw-dev/images" / name / f"{name}_0001.jpg"))
    assert photo is not None
    width, height = size
    cy, cx = photo.shape[0] // 2, photo.shape[1] // 2
    crop = np.ascontiguousarray(
        photo[cy - height // 2 : cy + height // 2, cx - width // 2 : cx + width // 2]
    )
    true_yaw = _centre_face_yaw(pack, photo)
    # The drift being fixed: on the bare crop the landmarks read a much larger turn.
    bare = pack.detect(crop)
    assert len(bare) == 1
    assert abs(pose_from_landmarks(bare.landmarks[0])[0]) > abs(true_yaw) + 15

    ok, png = cv2.imencode(".png", crop)
    assert ok
    template = QualityGate(pack, EnrolmentConfig()).template_for(png.tobytes(), f"{name}.png")
    assert abs(template.quality.yaw - true_yaw) < 8


class _Scripted(FaceDetector):
    """Answers from a list, one answer per call, recording each image's size."""

    def __init__(self, answers: list[Detections]) -> None:
        self.answers = answers
        self.sizes: list[tuple[int, int]] = []

    def detect(self, image: ImageArray) -> Detections:
        self.sizes.append((image.shape[1], image.shape[0]))
        return self.answers.pop(0)


def _one_face(x1: float, y1: float, x2: float, y2: float) -> Detections:
    w = x2 - x1
    eyes = [[x1 + 0.3 * w, y1 + 0.4 * w], [x1 + 0.7 * w, y1 + 0.4 * w]]
    rest = [
        [x1 + 0.5 * w, y1 + 0.6 * w],
        [x1 + 0.35 * w, y1 + 0.8 * w],
        [x1 + 0.65 * w, y1 + 0.8 * w],
    ]
    return Detections(
        boxes=np.array([[x1, y1, x2, y2]], np.float32),
        landmarks=np.array([eyes + rest], np.float32),
        scores=np.array([0.9], np.float32),
    )


def test_a_face_away_from_the_edges_is_detected_once() -> None:
    detector = _Scripted([_one_face(40, 40, 80, 80)])
    found = detect_with_context(detector, np.zeros((120, 120, 3), np.uint8))
    assert detector.sizes == [(120, 120)]
    np.testing.assert_array_equal(found.boxes, [[40, 40, 80, 80]])


@pytest.mark.parametrize("first", [Detections.empty(), _one_face(0, 10, 100, 110)])
def test_no_face_or_a_face_on_the_edge_is_redone_in_a_border(first: Detections) -> None:
    # The padded image is 100 + 2 × 25 on each side; its answer comes back shifted.
    detector = _Scripted([first, _one_face(30, 35, 120, 125)])
    found = detect_with_context(detector, np.zeros((100, 100, 3), np.uint8))
    assert detector.sizes == [(100, 100), (150, 150)]
    np.testing.assert_allclose(found.boxes, [[5, 10, 95, 100]])
    np.testing.assert_allclose(found.landmarks[0, 0], [5 + 0.3 * 90, 10 + 0.4 * 90])


def test_the_first_answer_stands_when_the_border_finds_nothing() -> None:
    first = _one_face(0, 0, 60, 60)
    detector = _Scripted([first, Detections.empty()])
    found = detect_with_context(detector, np.zeros((60, 60, 3), np.uint8))
    assert len(found) == 1 and len(detector.sizes) == 2


def test_near_edge_looks_at_the_most_prominent_face() -> None:
    small_on_edge = _one_face(0, 0, 10, 10)
    big_inside = _one_face(100, 100, 200, 200)
    both = Detections(
        boxes=np.concatenate([small_on_edge.boxes, big_inside.boxes]),
        landmarks=np.concatenate([small_on_edge.landmarks, big_inside.landmarks]),
        scores=np.concatenate([small_on_edge.scores, big_inside.scores]),
    )
    assert not near_edge(both, 400, 400)
    assert near_edge(big_inside, 203, 400)
    assert not near_edge(Detections.empty(), 10, 10)
