"""The camera view's privacy preview: non-alert faces blurred before they are kept, pictures
only while watched, dropped within seconds, rates from counts alone."""

from __future__ import annotations

import numpy as np
import pytest
from web_support import demo_frames

from openlfr.types import Alert, Detections, Frame, Track
from openlfr.vision.pack import ModelPack
from openlfr.web.preview import PreviewHub, PreviewSettings, redact


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _scene(pack: ModelPack, tmp_path_factory: pytest.TempPathFactory) -> tuple[Frame, Detections]:
    folder = demo_frames(tmp_path_factory.mktemp("scene"), frames=1)
    import cv2

    image = cv2.imread(str(next(folder.iterdir())))
    assert image is not None
    detections = pack.detect(image)
    assert len(detections) == 3, "the demo scene holds three faces"
    order = np.argsort(detections.boxes[:, 0])  # left to right
    return Frame(image=image, camera_id="cam-1", seq=0, captured_at=0.0), detections.select(
        [int(i) for i in order]
    )


def _tracks(detections: Detections) -> list[Track]:
    return [
        Track(i + 1, "cam-1", detections.boxes[i], i, float(detections.scores[i]), 3, 0.0, 0.0)
        for i in range(len(detections))
    ]


class _AlertStub:
    """Only an alert's track id matters to the preview."""

    def __init__(self, track_id: int) -> None:
        self.track_id = track_id


def _alert(track_id: int) -> Alert:
    return _AlertStub(track_id)  # type: ignore[return-value]


def _sharpness(image: np.ndarray, box: np.ndarray) -> float:
    import cv2

    x1, y1, x2, y2 = (int(v) for v in box)
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _likeness(
    pack: ModelPack, before: np.ndarray, after: np.ndarray, faces: Detections
) -> list[float]:
    """Cosine similarity of each face's embedding before and after redaction, aligned at the
    same landmarks: what a recogniser could still tell from the preview."""
    embed = pack.recogniser.embed
    a = embed([c.image for c in pack.crops(before, faces)])
    b = embed([c.image for c in pack.crops(after, faces)])
    return [float(x @ y) for x, y in zip(a, b, strict=True)]


def test_every_face_but_the_alerted_ones_is_blurred_beyond_recognition(
    pack: ModelPack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    frame, detections = _scene(pack, tmp_path_factory)
    tracks = _tracks(detections)
    settings = PreviewSettings(max_width=2000)  # same scale: boxes compare directly
    original = frame.image.copy()
    shown = redact(frame.image, detections, tracks, {2}, settings)
    assert np.array_equal(frame.image, original)  # the pipeline's frame is left alone
    # Inside each box (its outline is drawn on top): detail gone, or kept for the alert.
    left, middle, right = (b + np.array([8, 8, -8, -8], np.float32) for b in detections.boxes)
    for box in (left, right):
        assert _sharpness(shown, box) < 0.1 * _sharpness(frame.image, box)
    assert _sharpness(shown, middle) == pytest.approx(_sharpness(frame.image, middle), rel=0.05)
    # A recogniser can no longer tell who the blurred people are (impostor-level likeness,
    # far under the 0.55 alert threshold); the alerted face is untouched.
    likeness = _likeness(pack, frame.image, shown, detections)
    assert likeness[0] < 0.3 and likeness[2] < 0.3, likeness
    assert likeness[1] > 0.9, likeness  # only the drawn outline differs

    nobody = redact(frame.image, detections, tracks, set(), settings)
    assert max(_likeness(pack, frame.image, nobody, detections)) < 0.3
    # A face the tracker has not confirmed is blurred too.
    untracked = redact(frame.image, detections, [], {1, 2, 3}, settings)
    assert max(_likeness(pack, frame.image, untracked, detections)) < 0.3


def test_pictures_are_made_only_while_watched_and_dropped_within_seconds(
    pack: ModelPack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    frame, detections = _scene(pack, tmp_path_factory)
    clock = FakeClock()
    hub = PreviewHub(PreviewSettings(max_age_s=3.0, demand_s=5.0, fps=10.0), clock=clock)
    observe = hub.observer(7, "cam-1")
    observe(frame, detections, _tracks(detections), [])
    assert hub.held() == 0  # nobody is watching: nothing is kept
    assert hub.jpeg(7, "cam-1") is None  # asking starts the pictures…
    clock.now += 0.2
    observe(frame, detections, _tracks(detections), [])
    assert hub.held() == 1
    data = hub.jpeg(7, "cam-1")
    assert data is not None and data[:3] == b"\xff\xd8\xff"
    import cv2

    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert max(_likeness(pack, frame.image, decoded, detections)) < 0.3  # no alert: all blurred
    clock.now += 3.1
    assert hub.jpeg(7, "cam-1") is None  # …and a picture lives seconds at most
    assert hub.held() == 0
    clock.now += 10.0
    observe(frame, detections, _tracks(detections), [])
    assert hub.held() == 0  # the viewer left: no more pictures
    assert hub.jpeg(8, "cam-1") is None  # unknown cameras have nothing


def test_an_alerted_track_stays_visible_while_it_lasts(
    pack: ModelPack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    frame, detections = _scene(pack, tmp_path_factory)
    clock = FakeClock()
    hub = PreviewHub(PreviewSettings(fps=100.0), clock=clock)
    observe = hub.observer(1, "cam-1")
    hub.jpeg(1, "cam-1")
    observe(frame, detections, _tracks(detections), [_alert(2)])
    clock.now += 0.1
    observe(frame, detections, _tracks(detections), [])  # later frames: still the alert
    import cv2

    data = hub.jpeg(1, "cam-1")
    assert data is not None
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    likeness = _likeness(pack, frame.image, decoded, detections)
    assert likeness[1] > 0.8 and likeness[0] < 0.3 and likeness[2] < 0.3, likeness
    hub.forget(1)
    assert hub.held() == 0 and hub.jpeg(1, "cam-1") is None


def test_rates_count_frames_and_the_frames_skipped(
    pack: ModelPack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    frame, detections = _scene(pack, tmp_path_factory)
    clock = FakeClock()
    hub = PreviewHub(clock=clock)
    observe = hub.observer(1, "cam-1")
    for seq in (0, 1, 2, 5, 6, 10):  # 2 + 3 frames skipped by the source
        clock.now += 0.1
        observe(Frame(frame.image, "cam-1", seq, 0.0), detections, _tracks(detections)[:2], [])
    rates = hub.rates(1, "cam-1")
    assert (rates.frames, rates.dropped, rates.faces, rates.tracks) == (6, 5, 3, 2)
    assert rates.fps == pytest.approx(10.0, rel=0.01)
    clock.now += 10
    assert hub.rates(1, "cam-1").fps == 0.0  # a stalled camera shows no rate
    assert hub.rates(2, "cam-9").frames == 0


def test_the_observer_never_stops_a_camera() -> None:
    hub = PreviewHub()
    observe = hub.observer(1, "cam-1")
    hub.jpeg(1, "cam-1")
    broken = Frame(np.zeros((0, 0, 3), np.uint8), "cam-1", 0, 0.0)
    observe(broken, Detections.empty(), [], [])  # must not raise
    assert hub.jpeg(1, "cam-1") is None
