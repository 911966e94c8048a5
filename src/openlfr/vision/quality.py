"""Face quality from landmarks and pixels: size, sharpness, pose, detector score."""

from __future__ import annotations

import math

import cv2
import numpy as np

from openlfr.types import Detection, FaceQuality, ImageArray
from openlfr.vision.align import ARCFACE_TEMPLATE_112

# Where the nose tip sits between the eye line (0) and the mouth line (1) on
# the frontal alignment template.
_FRONTAL_NOSE_SHARE = float(
    (ARCFACE_TEMPLATE_112[2, 1] - ARCFACE_TEMPLATE_112[:2, 1].mean())
    / (ARCFACE_TEMPLATE_112[3:, 1].mean() - ARCFACE_TEMPLATE_112[:2, 1].mean())
)


def sharpness(crop: ImageArray) -> float:
    """Variance of the Laplacian of the grey aligned crop (blur lowers it sharply)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def pose_from_landmarks(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Rough (yaw, pitch, roll) in degrees from the five landmarks.

    Roll is the eye line's angle. Yaw comes from how far the nose tip sits off
    the midline between the eyes, relative to half the inter-eye distance (a
    frontal face has the nose on the midline; a profile has it at an eye or
    beyond). Pitch compares the nose's height between the eye line and the
    mouth line with its share on the alignment template (0.49). Both are proxies, monotone
    in the true angles, good enough to reject extreme poses and rank looks.
    """
    left_eye, right_eye, nose, left_mouth, right_mouth = landmarks.astype(np.float64)
    eye_vec = right_eye - left_eye
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    inter_eye = float(np.hypot(*eye_vec)) or 1.0
    # Express points in the eye-line frame so roll does not leak into yaw/pitch.
    c, s = math.cos(-math.radians(roll)), math.sin(-math.radians(roll))
    rot = np.array([[c, -s], [s, c]])
    eye_mid = (left_eye + right_eye) / 2
    mouth_mid = (left_mouth + right_mouth) / 2
    nose_r = rot @ (nose - eye_mid)
    mouth_r = rot @ (mouth_mid - eye_mid)
    yaw_ratio = float(np.clip(nose_r[0] / (inter_eye / 2), -1.0, 1.0))
    yaw = math.degrees(math.asin(yaw_ratio))
    if mouth_r[1] <= 1e-6:
        pitch = 90.0
    else:
        share = float(nose_r[1] / mouth_r[1])
        pitch = math.degrees(
            math.asin(float(np.clip((share - _FRONTAL_NOSE_SHARE) / 0.5, -1.0, 1.0)))
        )
    return yaw, pitch, roll


def assess(detection: Detection, aligned_crop: ImageArray) -> FaceQuality:
    """All quality measures for one detected face and its aligned crop."""
    left_eye, right_eye = detection.landmarks[0], detection.landmarks[1]
    yaw, pitch, roll = pose_from_landmarks(detection.landmarks)
    return FaceQuality(
        inter_eye_px=float(np.hypot(*(right_eye - left_eye))),
        sharpness=sharpness(aligned_crop),
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        det_score=detection.score,
    )
