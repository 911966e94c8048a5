"""Faces in still photos cropped tight to the face: detect again with a border of context."""

from __future__ import annotations

import cv2
import numpy as np

from openlfr.types import Detections, ImageArray
from openlfr.vision.detector import FaceDetector

# A face whose box comes this close to an image edge (share of the box's own size) is
# treated as cropped tight. YuNet learnt faces with surroundings: with the chin or a
# cheek on the edge its landmarks drift (a frontal face read as turned 40-60 degrees
# sideways) or it finds nothing at all.
EDGE_MARGIN = 0.05
# Border added on every side, as a share of the image's longer side: the same 0.25 that
# the evaluation's --pad uses for UTKFace's tight chips.
CONTEXT_PAD = 0.25


def near_edge(detections: Detections, width: int, height: int, margin: float = EDGE_MARGIN) -> bool:
    """Whether the most prominent face (widest eye distance) reaches an image edge."""
    if len(detections) == 0:
        return False
    eyes = detections.landmarks[:, 1] - detections.landmarks[:, 0]
    x1, y1, x2, y2 = detections.boxes[int(np.argmax(np.hypot(eyes[:, 0], eyes[:, 1])))]
    gap_x, gap_y = margin * (x2 - x1), margin * (y2 - y1)
    return bool(x1 < gap_x or y1 < gap_y or x2 > width - gap_x or y2 > height - gap_y)


def detect_with_context(
    detector: FaceDetector, image: ImageArray, pad: float = CONTEXT_PAD
) -> Detections:
    """Faces in a still photo; a photo with no face or a face on its edge is padded and redone.

    The border is black, as alignment's own outside-the-image value, so the aligned crop
    is the same whether it is cut from the padded copy or from ``image``. Coordinates are
    returned in ``image``'s pixels. If the padded copy shows no face the first answer stands.
    """
    found = detector.detect(image)
    height, width = image.shape[:2]
    if height == 0 or width == 0 or (len(found) > 0 and not near_edge(found, width, height)):
        return found
    border = max(1, round(pad * max(height, width)))
    padded = cv2.copyMakeBorder(
        image, border, border, border, border, cv2.BORDER_CONSTANT, value=(0, 0, 0)
    )
    again = detector.detect(np.ascontiguousarray(padded))
    if len(again) == 0:
        return found
    shift = np.float32(border)
    return Detections(
        boxes=np.ascontiguousarray(again.boxes - shift),
        landmarks=np.ascontiguousarray(again.landmarks - shift),
        scores=again.scores,
    )
