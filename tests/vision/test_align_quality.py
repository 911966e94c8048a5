"""Five-point alignment and landmark/pixel quality measures."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from openlfr.types import Detection
from openlfr.vision.align import ARCFACE_TEMPLATE_112, align_face, similarity_transform
from openlfr.vision.quality import assess, pose_from_landmarks, sharpness


def transform(
    points: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]
) -> np.ndarray:
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (scale * points @ rot.T + np.array(shift)).astype(np.float32)


@pytest.mark.parametrize(
    ("angle", "scale", "shift"), [(0, 1, (0, 0)), (25, 2.5, (300, 120)), (-40, 0.6, (5, 9))]
)
def test_similarity_transform_recovers_a_known_one(
    angle: float, scale: float, shift: tuple[float, float]
) -> None:
    src = ARCFACE_TEMPLATE_112
    dst = transform(src, angle, scale, shift)
    matrix = similarity_transform(src, dst)
    mapped = src @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, dst, atol=1e-3)


def test_align_face_puts_landmarks_on_the_template() -> None:
    # Draw dots at rotated, scaled landmark positions; after alignment they
    # must land on the template positions.
    landmarks = transform(ARCFACE_TEMPLATE_112, 30, 3.0, (200, 50))
    image = np.zeros((600, 600, 3), np.uint8)
    for x, y in landmarks:
        cv2.circle(image, (round(x), round(y)), 6, (255, 255, 255), -1)
    crop = align_face(image, landmarks, 112)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    for x, y in ARCFACE_TEMPLATE_112:
        assert grey[round(y), round(x)] > 200


def test_frontal_template_has_near_zero_pose() -> None:
    yaw, pitch, roll = pose_from_landmarks(ARCFACE_TEMPLATE_112 * 3)
    assert abs(yaw) < 3 and abs(pitch) < 3 and abs(roll) < 1


def test_yaw_sign_follows_nose_and_roll_does_not_leak() -> None:
    turned = ARCFACE_TEMPLATE_112.copy()
    turned[2, 0] += 15  # nose towards one eye
    yaw, _, _ = pose_from_landmarks(turned)
    mirrored = turned.copy()
    mirrored[2, 0] = 2 * ARCFACE_TEMPLATE_112[:2, 0].mean() - turned[2, 0]
    yaw_m, _, _ = pose_from_landmarks(mirrored)
    assert yaw > 20 and yaw_m < -20
    rolled = transform(turned, 35, 1.0, (0, 0))
    yaw_r, _, roll_r = pose_from_landmarks(rolled)
    assert yaw_r == pytest.approx(yaw, abs=0.5)
    assert roll_r == pytest.approx(35, abs=0.5)


def test_blur_lowers_sharpness() -> None:
    rng = np.random.default_rng(1)
    crop = (rng.random((112, 112, 3)) * 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(crop, (0, 0), 2.0)
    assert sharpness(blurred) < sharpness(crop) / 10


def test_assess_reports_inter_eye_distance_and_score() -> None:
    landmarks = ARCFACE_TEMPLATE_112 * 2
    det = Detection(box=np.array([0, 0, 224, 224], np.float32), landmarks=landmarks, score=0.93)
    q = assess(det, np.zeros((112, 112, 3), np.uint8))
    expected = float(np.hypot(*(landmarks[1] - landmarks[0])))
    assert q.inter_eye_px == pytest.approx(expected)
    assert q.det_score == pytest.approx(0.93)
