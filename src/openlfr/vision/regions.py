"""Square windows around expected faces: cut them to one patch size, map detections back.

Between full-frame detections the pipeline looks for faces only where its
tracker predicts them. Each predicted box becomes a square window ``scale``
times its longer side (room for the face to move and for its landmarks),
resized to ``size`` pixels so every window of every camera has the same shape
and many run as one batched detector call.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openlfr.types import Detections, FloatArray, ImageArray


@dataclass(frozen=True, slots=True)
class Windows:
    """Square windows in an image, each resized to ``size`` × ``size`` for detection.

    Attributes:
        origins: ``(N, 2)`` float32 top-left corner of each window in image pixels
            (may lie outside the image: the outside is black).
        sides: ``(N,)`` float32 side of each window in image pixels.
        size: side of each patch given to the detector, in pixels.
    """

    origins: FloatArray
    sides: FloatArray
    size: int

    def __len__(self) -> int:
        return int(self.sides.shape[0])


def windows_around(boxes: FloatArray, *, scale: float, size: int, min_side: float) -> Windows:
    """One window centred on each ``x1, y1, x2, y2`` box, ``scale`` × its longer side."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    longer = np.max(boxes[:, 2:] - boxes[:, :2], axis=1)
    sides = np.maximum(longer * np.float32(scale), np.float32(min_side)).astype(np.float32)
    origins = (centres - sides[:, None] / 2).astype(np.float32)
    return Windows(origins=origins, sides=sides, size=size)


def cut(image: ImageArray, windows: Windows) -> np.ndarray:
    """``(N, size, size, 3)`` uint8 patches, one per window (black outside the image).

    Bilinear sampling, also when shrinking: a window is at most a few times the patch
    size, and faces that large stay easy to find.
    """
    size = windows.size
    out = np.zeros((len(windows), size, size, 3), np.uint8)
    for i, ((x0, y0), side) in enumerate(zip(windows.origins, windows.sides, strict=True)):
        k = size / float(side)
        matrix = np.array([[k, 0.0, -k * x0], [0.0, k, -k * y0]], np.float32)
        cv2.warpAffine(
            image,
            matrix,
            (size, size),
            dst=out[i],
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
    return out


def to_image(found: Detections, windows: Windows, index: int) -> Detections:
    """Detections in patch ``index``'s pixels, moved to image pixels; only those whose centre
    lies in the window's central half (a face cut by the window's edge is some other
    window's, or the next full detection's)."""
    if len(found) == 0:
        return found
    size = float(windows.size)
    centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2
    inner = np.all((centres >= size / 4) & (centres <= 3 * size / 4), axis=1)
    if not inner.all():
        found = found.select(np.nonzero(inner)[0])
        if len(found) == 0:
            return found
    k = np.float32(windows.sides[index] / size)
    origin = windows.origins[index]
    return Detections(
        boxes=np.ascontiguousarray(found.boxes * k + np.tile(origin, 2), dtype=np.float32),
        landmarks=np.ascontiguousarray(found.landmarks * k + origin, dtype=np.float32),
        scores=found.scores,
    )


def merge(parts: list[Detections], nms_threshold: float, top_k: int) -> Detections:
    """All windows' detections as one set; a face seen by two overlapping windows once."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    boxes = np.concatenate([p.boxes for p in parts])
    landmarks = np.concatenate([p.landmarks for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    if len(parts) > 1:
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), 0.0, nms_threshold, top_k=top_k)
        idx = np.asarray(keep, dtype=np.intp).reshape(-1)
        boxes, landmarks, scores = boxes[idx], landmarks[idx], scores[idx]
    return Detections(
        boxes=np.ascontiguousarray(boxes),
        landmarks=np.ascontiguousarray(landmarks),
        scores=np.ascontiguousarray(scores),
    )
