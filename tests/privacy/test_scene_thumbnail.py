"""The scene thumbnail kept with an alert shows the alerted face and nobody else's."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openlfr.privacy.scene import THUMBNAIL, scene_thumbnail
from openlfr.types import Track
from openlfr.vision.pack import ModelPack

KIT = Path(__file__).resolve().parents[2] / "src" / "openlfr" / "demokit" / "images"
PEOPLE = ("canada_003f.jpg", "london_001_smiling.jpg", "canada_095m.jpg")


def _street() -> np.ndarray:
    canvas = np.full((540, 960, 3), (92, 98, 104), np.uint8)
    x = 60
    for name in PEOPLE:
        image = cv2.imread(str(KIT / name))
        assert image is not None
        face = cv2.resize(image, (round(image.shape[1] * 260 / image.shape[0]), 260))
        canvas[140 : 140 + face.shape[0], x : x + face.shape[1]] = face
        x += face.shape[1] + 60
    return canvas


def _detail(image: np.ndarray, box: np.ndarray, scale: float) -> float:
    """Mean absolute difference between neighbouring pixels inside a box: ~0 in a mosaic."""
    x1, y1, x2, y2 = (int(v * scale) for v in box)
    region = image[y1:y2, x1:x2].astype(np.int16)
    return float(np.abs(np.diff(region, axis=1)).mean())


def test_only_the_alerted_face_is_left_clear(pack: ModelPack) -> None:
    frame = _street()
    detections = pack.detect(frame)
    assert len(detections) == 3
    order = np.argsort(detections.boxes[:, 0])
    alerted = int(order[1])
    tracks = [
        Track(i + 1, "cam-1", detections.boxes[row], int(row), 0.9, 5, 0.0, 0.0)
        for i, row in enumerate(order)
    ]
    data = scene_thumbnail(frame, detections, tracks, alerted_track=2)
    assert data is not None and data[:2] == b"\xff\xd8"
    thumb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    scale = THUMBNAIL.max_width / frame.shape[1]
    assert thumb.shape[1] == THUMBNAIL.max_width
    clear = _detail(thumb, detections.boxes[alerted], scale)
    for row in order[[0, 2]]:
        # The others keep a fraction of the detail the alerted face keeps (blocks only).
        assert _detail(thumb, detections.boxes[row], scale) < clear / 2
    # And the face detector no longer finds the others where they stood.
    found = pack.detect(cv2.resize(thumb, (frame.shape[1], frame.shape[0])))
    centres = [((b[0] + b[2]) / 2) for b in found.boxes]
    others = [((detections.boxes[r][0] + detections.boxes[r][2]) / 2) for r in order[[0, 2]]]
    assert not any(abs(c - o) < 40 for c in centres for o in others)
