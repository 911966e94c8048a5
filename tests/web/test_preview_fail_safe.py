"""The camera view fails safe: faces the detector misses (cut by the frame's edge, tiny,
blurred) are as unrecognisable in the served picture as every other face but the alerted one."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from web_support import DEMOKIT

from openlfr.config import DetectorConfig, RuntimeConfig
from openlfr.types import Alert, Detections, FloatArray, Frame, ImageArray, Track
from openlfr.vision.detector import YuNetDetector
from openlfr.vision.pack import ModelPack
from openlfr.vision.weights import YUNET_2023MAR, resolve_known
from openlfr.web.preview import PreviewHub, PreviewSettings

# What a recogniser makes of a flat grey patch at a face's landmarks is up to 0.26 against
# these people; the 1:1 threshold is 0.40 and the alert threshold 0.55.
UNRECOGNISABLE = 0.3


@dataclass(frozen=True)
class Placed:
    """One face put into the scene: where its landmarks are, and who it is."""

    name: str
    faces: Detections  # one row, in scene pixels
    identity: FloatArray  # the embedding of the original, full-resolution photo


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _AlertStub:
    def __init__(self, track_id: int) -> None:
        self.track_id = track_id


def _identity(pack: ModelPack, photo: str) -> tuple[ImageArray, Detections, FloatArray]:
    image = cv2.imread(str(DEMOKIT / photo))
    assert image is not None, photo
    found = pack.detect(image)
    largest = int(np.argmax(found.boxes[:, 2] - found.boxes[:, 0]))
    face = found.select([largest])
    return image, face, pack.embed(pack.crops(image, face))[0].embedding


def _place(
    canvas: ImageArray, image: ImageArray, face: Detections, height: float, centre: tuple[int, int]
) -> Detections:
    """Paste ``image`` scaled so that its face box is ``height`` tall and centred at
    ``centre`` (parts outside the canvas are cut off, as by a camera's frame)."""
    box = face.boxes[0]
    s = height / float(box[3] - box[1])
    small = cv2.resize(
        image, (round(image.shape[1] * s), round(image.shape[0] * s)), interpolation=cv2.INTER_AREA
    )
    ox = round(centre[0] - (box[0] + box[2]) / 2 * s)
    oy = round(centre[1] - (box[1] + box[3]) / 2 * s)
    ch, cw = canvas.shape[:2]
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(cw, ox + small.shape[1]), min(ch, oy + small.shape[0])
    canvas[y0:y1, x0:x1] = small[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    shift = np.array([ox, oy], np.float32)
    return Detections(
        boxes=(face.boxes * s + np.tile(shift, 2)).astype(np.float32),
        landmarks=(face.landmarks * s + shift).astype(np.float32),
        scores=face.scores.copy(),
    )


def _scaled(faces: Detections, k: float) -> Detections:
    return Detections(boxes=faces.boxes * k, landmarks=faces.landmarks * k, scores=faces.scores)


def _likeness(pack: ModelPack, image: ImageArray, placed: Placed, k: float = 1.0) -> float:
    """How like the person a recogniser finds ``image`` at the face's landmarks."""
    crop = pack.crops(image, _scaled(placed.faces, k))[0]
    return float(pack.recogniser.embed([crop.image])[0] @ placed.identity)


def _overlaps(found: Detections, box: FloatArray) -> list[bool]:
    """For each detection: does its centre lie inside ``box``?"""
    cx = (found.boxes[:, 0] + found.boxes[:, 2]) / 2
    cy = (found.boxes[:, 1] + found.boxes[:, 3]) / 2
    inside = (cx >= box[0]) & (cx <= box[2]) & (cy >= box[1]) & (cy <= box[3])
    return [bool(v) for v in inside]


def test_faces_the_detector_misses_are_never_shown(pack: ModelPack) -> None:
    canvas = np.full((720, 1280, 3), (92, 98, 104), np.uint8)
    canvas[520:, :] = (70, 74, 78)

    def put(name: str, photo: str, height: float, centre: tuple[int, int]) -> Placed:
        image, face, identity = _identity(pack, photo)
        return Placed(name, _place(canvas, image, face, height, centre), identity)

    alerted = put("alerted", "london_002_neutral.jpg", 230, (640, 330))
    listed = put("detected, no alert", "canada_010f.jpg", 150, (1000, 260))
    edge = put("cut by the left edge", "london_005_smiling.jpg", 380, (-70, 380))
    bottom = put("cut by the bottom edge", "canada_098m.jpg", 340, (300, 760))
    tiny = put("tiny", "lisa_debruine_lisa1.jpg", 18, (1180, 90))
    soft = put("motion-blurred", "london_007_neutral.jpg", 50, (1140, 560))
    x1, y1, x2, y2 = (int(v) for v in soft.faces.boxes[0])
    area = canvas[y1 - 25 : y2 + 25, x1 - 25 : x2 + 25]
    streak = np.zeros((21, 21), np.float32)
    streak[10, :] = 1 / 21  # someone walking fast past a slow shutter
    area[:] = cv2.filter2D(area, -1, streak)
    missed = [edge, bottom, tiny, soft]

    # The pipeline's detector (its default score threshold) finds the two whole faces and
    # none of the others: exactly the faces that used to be shown sharp.
    found = pack.detect(canvas)
    for p in missed:
        assert not any(_overlaps(found, p.faces.boxes[0])), f"{p.name} was detected"
    rows = [_overlaps(found, p.faces.boxes[0]).index(True) for p in (alerted, listed)]
    detections = found.select(rows)
    # Missed faces can still be recognisable as captured (above the 1:1 threshold, 0.40):
    # hiding them matters.
    for p in (edge, bottom, tiny):
        assert _likeness(pack, canvas, p) > 0.4, p.name

    clock = FakeClock()
    hub = PreviewHub(PreviewSettings(fps=100.0), clock=clock)
    observe = hub.observer(1, "cam-1")
    hub.jpeg(1, "cam-1")  # someone is watching
    tracks = [
        Track(i + 1, "cam-1", detections.boxes[i], i, float(detections.scores[i]), 5, 0.0, 0.0)
        for i in range(len(detections))
    ]
    alert: Alert = _AlertStub(1)  # type: ignore[assignment]
    observe(Frame(canvas, "cam-1", 0, 0.0), detections, tracks, [alert])
    data = hub.jpeg(1, "cam-1")
    assert data is not None
    served = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    k = served.shape[1] / canvas.shape[1]  # the preview is scaled to 960 wide
    assert served.shape[:2] == (540, 960)

    for p in [listed, *missed]:
        assert _likeness(pack, served, p, k) < UNRECOGNISABLE, p.name
    assert _likeness(pack, served, alerted, k) > 0.8  # the alert is shown as captured

    # A detector far more eager than the pipeline's finds no face but the alerted one.
    eager = YuNetDetector(
        resolve_known(YUNET_2023MAR), DetectorConfig(score_threshold=0.3), RuntimeConfig()
    )
    seen = eager.detect(served)
    assert len(seen) >= 1
    assert all(_overlaps(seen, alerted.faces.boxes[0] * k)), seen.boxes
