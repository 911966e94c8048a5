"""The camera view's privacy preview: the newest frame per camera, obscured before it is kept.

Privacy by construction (invariants 1 and 6):

- the preview fails safe: the *whole* picture is reduced to a coarse mosaic, so a
  face the detector misses (cut by the frame's edge, tiny, blurred, turned away)
  is obscured like everything else; only the boxes of faces that raised an alert
  are shown as captured, and every other detected face is pixelated again on top;
- all of this happens *before* the picture is stored, so the buffer never holds a
  face that is not an alert, not even for the few seconds it lives;
- only the newest picture of each camera is held, in memory, and it is dropped
  ``max_age_s`` after it was taken (a janitor thread enforces this when no one
  reads it and the camera has stopped);
- pictures are made only while someone is watching (a request in the last
  ``demand_s``), so an unwatched camera costs nothing and leaves nothing.

Nothing here touches a file: JPEG encoding happens in memory on request.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from openlfr.types import Alert, Detections, FloatArray, Frame, ImageArray, Track

Clock = Callable[[], float]
# openlfr.stream.pipeline.FrameObserver, restated so that importing this stays light.
FrameObserver = Callable[[Frame, Detections, Sequence[Track], Sequence[Alert]], None]

# BGR colours with strong contrast on video: amber for alerts, cyan for other tracks.
_ALERT_BGR = (0, 191, 255)
_TRACK_BGR = (255, 255, 0)


@dataclass(frozen=True, slots=True)
class PreviewSettings:
    """How the preview is made.

    Attributes:
        fps: most pictures per second kept per camera (the pipeline may run faster).
        max_width: pictures wider than this are scaled down first (cheaper, and enough
            to supervise a camera).
        max_age_s: a picture is dropped this long after it was taken.
        demand_s: pictures are made only if someone asked for one this recently.
        jpeg_quality: 1-100.
        margin: each face box is widened by this share of its size on every side
            before it is blurred or shown, to cover hair and ears.
        cells: a detected face that has not alerted keeps at most this many blocks
            across its width.
        scene_cells: the whole picture keeps this many blocks across its shorter side
            (16 at 960×540: 34-pixel blocks). This is what protects faces the detector
            misses: a face keeps about ``scene_cells`` × its share of the picture's
            height blocks, so even one filling three quarters of the height keeps
            about 12, where a recogniser can no longer tell who it is. Lower is
            safer and shows less of the scene.
    """

    fps: float = 8.0
    max_width: int = 960
    max_age_s: float = 3.0
    demand_s: float = 5.0
    jpeg_quality: int = 75
    margin: float = 0.3
    cells: int = 6
    scene_cells: int = 16

    def __post_init__(self) -> None:
        if self.scene_cells < 1 or self.cells < 1:
            raise ValueError("cells and scene_cells must be at least 1")


@dataclass(frozen=True, slots=True)
class CameraRates:
    """What the camera view shows beside a picture: counts, never faces."""

    fps: float
    frames: int
    dropped: int
    faces: int
    tracks: int
    alerted_tracks: int
    picture: bool
    picture_age_s: float | None


@dataclass(frozen=True, slots=True)
class _Picture:
    image: ImageArray
    seq: int
    taken_at: float  # hub clock


@dataclass
class _Feed:
    """One camera's counters and newest obscured picture."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    picture: _Picture | None = None
    jpeg: tuple[int, bytes] | None = None
    frames: int = 0
    dropped: int = 0
    last_seq: int | None = None
    times: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    faces: int = 0
    tracks: int = 0
    # track id -> when it was last seen; a track that alerted stays shown while it lives.
    alerted: dict[int, float] = field(default_factory=dict)
    wanted_at: float = float("-inf")
    last_frame_at: float = float("-inf")

    def drop_picture(self) -> None:
        self.picture = None
        self.jpeg = None


def redact(
    image: ImageArray,
    detections: Detections,
    tracks: Sequence[Track],
    alerted: set[int] | frozenset[int],
    settings: PreviewSettings,
) -> ImageArray:
    """A scaled copy of ``image`` in which nothing is recognisable but the alerted faces.

    The whole picture becomes a coarse mosaic (fail safe: it does not depend on the
    detector having found a face); the box of each face whose track raised an alert
    is then shown as captured, and every other detected face is pixelated again on
    top (so a neighbour overlapping an alerted face's margin stays hidden).
    Tracked faces get a box: amber with "ALERT" for a track that raised an alert,
    cyan with the track number for the others. ``image`` itself is not modified.
    """
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError("empty frame")
    scale = min(1.0, settings.max_width / max(width, 1))
    scaled: ImageArray
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        scaled = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    else:
        scaled = image
    out = _mosaic(scaled, settings.scene_cells)
    keep = {t.det_index for t in tracks if t.track_id in alerted}
    for row in sorted(keep):
        if 0 <= row < len(detections):
            region = _region(out, detections.boxes[row] * scale, settings.margin)
            if region is not None:
                out[region] = scaled[region]
    for row in range(len(detections)):
        if row not in keep:
            _blur(out, detections.boxes[row] * scale, settings)
    for track in tracks:
        _box(out, track, track.track_id in alerted, scale)
    return np.ascontiguousarray(out)


def _mosaic(image: ImageArray, cells: int) -> ImageArray:
    """A new picture of ``cells`` blocks across the shorter side, each its area's mean."""
    height, width = image.shape[:2]
    short = min(height, width)
    cells_x = max(1, min(width, round(cells * width / short)))
    cells_y = max(1, min(height, round(cells * height / short)))
    small = cv2.resize(image, (cells_x, cells_y), interpolation=cv2.INTER_AREA)
    # Hard block edges, no softening: blurring a mosaic makes faces easier to recognise.
    return np.asarray(
        cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST), dtype=np.uint8
    )


def _region(image: ImageArray, box: FloatArray, margin: float) -> tuple[slice, slice] | None:
    """The rows and columns of ``box`` widened by ``margin``, clipped to the picture."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(width, int(np.ceil(x2 + mx))), min(height, int(np.ceil(y2 + my)))
    if right <= left or bottom <= top:
        return None
    return slice(top, bottom), slice(left, right)


def _blur(image: ImageArray, box: FloatArray, settings: PreviewSettings) -> None:
    area = _region(image, box, settings.margin)
    if area is None:
        return
    region = image[area]
    h, w = region.shape[:2]
    # Pixelating to a handful of blocks destroys identity (unlike a Gaussian alone,
    # which can be partly undone); the blur afterwards only softens the blocks.
    cells_x = max(1, min(settings.cells, w))
    cells_y = max(1, min(round(settings.cells * h / max(w, 1)), h))
    small = cv2.resize(region, (cells_x, cells_y), interpolation=cv2.INTER_AREA)
    blocks = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    k = max(3, (min(w, h) // settings.cells) | 1)
    region[:] = cv2.GaussianBlur(blocks, (k, k), 0)


def _box(image: ImageArray, track: Track, alert: bool, scale: float) -> None:
    x1, y1, x2, y2 = (round(float(v) * scale) for v in track.box)
    colour = _ALERT_BGR if alert else _TRACK_BGR
    cv2.rectangle(image, (x1, y1), (x2, y2), colour, 2)
    label = "ALERT" if alert else f"#{track.track_id}"
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    top = max(0, y1 - th - base - 4)
    cv2.rectangle(image, (x1, top), (x1 + tw + 6, top + th + base + 4), colour, -1)
    cv2.putText(image, label, (x1 + 3, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)


class PreviewHub:
    """The newest obscured picture and the rates of every running camera, in memory.

    Cameras are keyed by ``(deployment id, camera name)``. The pipeline reports
    frames through :meth:`observer`; the console reads :meth:`jpeg` and
    :meth:`rates`. Thread-safe.
    """

    def __init__(self, settings: PreviewSettings | None = None, *, clock: Clock = time.monotonic):
        self.settings = settings or PreviewSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._feeds: dict[tuple[int, str], _Feed] = {}
        self._janitor: threading.Thread | None = None

    def _feed(self, key: tuple[int, str]) -> _Feed:
        with self._lock:
            feed = self._feeds.get(key)
            if feed is None:
                feed = self._feeds[key] = _Feed()
            return feed

    def _existing(self, key: tuple[int, str]) -> _Feed | None:
        with self._lock:
            return self._feeds.get(key)

    def observer(self, deployment_id: int, camera: str) -> FrameObserver:
        """The callback a camera pipeline calls after each frame."""
        feed = self._feed((deployment_id, camera))

        def observe(
            frame: Frame,
            detections: Detections,
            tracks: Sequence[Track],
            alerts: Sequence[Alert],
        ) -> None:
            try:
                self._observe(feed, frame, detections, tracks, alerts)
            except Exception:  # the preview must never stop a camera
                with feed.lock:
                    feed.drop_picture()

        return observe

    def _observe(
        self,
        feed: _Feed,
        frame: Frame,
        detections: Detections,
        tracks: Sequence[Track],
        alerts: Sequence[Alert],
    ) -> None:
        now = self._clock()
        with feed.lock:
            feed.frames += 1
            if feed.last_seq is not None and frame.seq > feed.last_seq + 1:
                feed.dropped += frame.seq - feed.last_seq - 1  # gaps are frames skipped
            feed.last_seq = frame.seq
            feed.times.append(now)
            feed.last_frame_at = now
            feed.faces = len(detections)
            feed.tracks = len(tracks)
            for alert in alerts:
                feed.alerted[alert.track_id] = now
            for track in tracks:
                if track.track_id in feed.alerted:
                    feed.alerted[track.track_id] = now
            horizon = now - 10.0
            for track_id in [t for t, seen in feed.alerted.items() if seen < horizon]:
                del feed.alerted[track_id]
            if now - feed.wanted_at > self.settings.demand_s:
                feed.drop_picture()
                return
            last = feed.picture
            if last is not None and now - last.taken_at < 1.0 / self.settings.fps:
                return
            alerted = frozenset(feed.alerted)
        image = redact(frame.image, detections, tracks, alerted, self.settings)
        with feed.lock:
            feed.picture = _Picture(image, frame.seq, now)
            feed.jpeg = None
        self._ensure_janitor()

    def jpeg(self, deployment_id: int, camera: str) -> bytes | None:
        """The newest obscured picture as JPEG, or None if there is none fresh enough.

        Asking counts as watching: the camera starts making pictures.
        """
        feed = self._existing((deployment_id, camera))
        if feed is None:
            return None
        now = self._clock()
        with feed.lock:
            feed.wanted_at = now
            picture = feed.picture
            if picture is None:
                return None
            if now - picture.taken_at > self.settings.max_age_s:
                feed.drop_picture()
                return None
            if feed.jpeg is not None and feed.jpeg[0] == picture.seq:
                return feed.jpeg[1]
        ok, data = cv2.imencode(
            ".jpg", picture.image, [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality]
        )
        if not ok:
            return None
        encoded = bytes(data.tobytes())
        with feed.lock:
            if feed.picture is picture:
                feed.jpeg = (picture.seq, encoded)
        return encoded

    def watch(self, deployment_id: int, camera: str) -> None:
        """Make the camera known here, so that the console can ask for its pictures."""
        self._feed((deployment_id, camera))

    def wanted(self) -> list[tuple[int, str]]:
        """The cameras someone has watched in the last ``demand_s``."""
        now = self._clock()
        with self._lock:
            feeds = list(self._feeds.items())
        out = []
        for key, feed in feeds:
            with feed.lock:
                if now - feed.wanted_at <= self.settings.demand_s:
                    out.append(key)
        return out

    def put_jpeg(self, deployment_id: int, camera: str, jpeg: bytes) -> bool:
        """Keep a picture redacted elsewhere (a worker's) as the camera's newest; False if it
        is not a picture or nobody is watching."""
        feed = self._existing((deployment_id, camera))
        now = self._clock()
        if feed is None or now - feed.wanted_at > self.settings.demand_s:
            return False
        decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            return False
        image: ImageArray = np.asarray(decoded, dtype=np.uint8)
        with feed.lock:
            seq = (feed.last_seq or 0) + 1
            feed.last_seq = seq
            feed.frames += 1
            feed.times.append(now)
            feed.last_frame_at = now
            feed.picture = _Picture(image, seq, now)
            feed.jpeg = (seq, jpeg)
        self._ensure_janitor()
        return True

    def rates(self, deployment_id: int, camera: str) -> CameraRates:
        """Frame rate over the last second or two, drops, faces and tracks in the newest frame."""
        feed = self._existing((deployment_id, camera))
        if feed is None:
            return CameraRates(0.0, 0, 0, 0, 0, 0, picture=False, picture_age_s=None)
        now = self._clock()
        with feed.lock:
            feed.wanted_at = now
            recent = [t for t in feed.times if now - t <= 2.0]
            fps = 0.0
            if len(recent) >= 2 and recent[-1] > recent[0]:
                fps = (len(recent) - 1) / (recent[-1] - recent[0])
            picture = feed.picture
            age = None if picture is None else max(0.0, now - picture.taken_at)
            fresh = age is not None and age <= self.settings.max_age_s
            stale_counts = now - feed.last_frame_at > self.settings.max_age_s
            return CameraRates(
                fps=0.0 if stale_counts else round(fps, 1),
                frames=feed.frames,
                dropped=feed.dropped,
                faces=0 if stale_counts else feed.faces,
                tracks=0 if stale_counts else feed.tracks,
                alerted_tracks=0 if stale_counts else len(feed.alerted),
                picture=fresh,
                picture_age_s=None if age is None else round(age, 2),
            )

    def forget(self, deployment_id: int) -> None:
        """Drop everything held for a deployment (its cameras stopped)."""
        with self._lock:
            keys = [k for k in self._feeds if k[0] == deployment_id]
            feeds = [self._feeds.pop(k) for k in keys]
        for feed in feeds:
            with feed.lock:
                feed.drop_picture()
                feed.alerted.clear()

    def held(self) -> int:
        """How many pictures are held right now (zero once ``max_age_s`` has passed)."""
        self.sweep()
        with self._lock:
            feeds = list(self._feeds.values())
        count = 0
        for feed in feeds:
            with feed.lock:
                count += feed.picture is not None
        return count

    def sweep(self) -> None:
        """Drop every picture older than ``max_age_s``."""
        now = self._clock()
        with self._lock:
            feeds = list(self._feeds.values())
        for feed in feeds:
            with feed.lock:
                if feed.picture and now - feed.picture.taken_at > self.settings.max_age_s:
                    feed.drop_picture()

    def _ensure_janitor(self) -> None:
        with self._lock:
            if self._janitor is None:
                self._janitor = threading.Thread(
                    target=self._janitor_loop, name="preview-janitor", daemon=True
                )
                self._janitor.start()

    def _janitor_loop(self) -> None:
        # Runs only while pictures are held, so a stopped camera's last picture still goes.
        # The final check and the hand-over happen under the hub's lock: a picture stored
        # meanwhile either keeps this thread going or starts a new one.
        while True:
            time.sleep(min(1.0, self.settings.max_age_s / 3))
            self.sweep()
            with self._lock:
                holding = False
                for feed in self._feeds.values():
                    with feed.lock:
                        holding = holding or feed.picture is not None
                if not holding:
                    self._janitor = None
                    return
