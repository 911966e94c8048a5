"""Five-point similarity alignment to the ArcFace/SFace crop template."""

from __future__ import annotations

import cv2
import numpy as np

from openlfr.types import FloatArray, ImageArray

# The 112×112 five-point template shared by ArcFace, SFace and most open
# recognisers (eyes, nose tip, mouth corners, left to right as seen).
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def similarity_transform(src: FloatArray, dst: FloatArray) -> FloatArray:
    """Least-squares similarity (rotation, uniform scale, shift) taking ``src`` to ``dst``.

    Umeyama's closed form; returns the ``(2, 3)`` affine matrix.
    """
    src = src.astype(np.float64)
    dst = dst.astype(np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1.0
    rotation = u @ d @ vt
    var_src = (src_c**2).sum() / len(src)
    scale = float(np.trace(np.diag(s) @ d) / var_src) if var_src > 0 else 1.0
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]]).astype(np.float32)


def align_face(image: ImageArray, landmarks: FloatArray, size: int = 112) -> ImageArray:
    """Warp the face with these five landmarks onto a ``size``×``size`` template crop."""
    template = ARCFACE_TEMPLATE_112 * (size / 112.0)
    matrix = similarity_transform(landmarks, template)
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.ascontiguousarray(crop, dtype=np.uint8)
