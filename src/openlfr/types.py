"""Typed containers passed between pipeline stages (never ``dict[str, Any]``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture from a camera.

    Attributes:
        image: ``(H, W, 3)`` BGR ``uint8`` pixels.
        camera_id: the source camera's identifier.
        seq: frame sequence number within the camera, from 0.
        captured_at: capture time, seconds since the Unix epoch.
    """

    image: ImageArray
    camera_id: str = "camera"
    seq: int = 0
    captured_at: float = 0.0

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


@dataclass(frozen=True, slots=True)
class Detections:
    """Faces found in one image, as column arrays (row ``i`` is one face).

    Attributes:
        boxes: ``(N, 4)`` float32 ``x1, y1, x2, y2`` in image pixels.
        landmarks: ``(N, 5, 2)`` float32 points in image pixels, in the order
            eye, eye, nose tip, mouth corner, mouth corner, left to right as seen
            in the image.
        scores: ``(N,)`` float32 detector confidence in ``[0, 1]``.
    """

    boxes: FloatArray
    landmarks: FloatArray
    scores: FloatArray

    def __post_init__(self) -> None:
        n = self.boxes.shape[0]
        if self.boxes.shape != (n, 4):
            raise ValueError(f"boxes must be (N, 4), got {self.boxes.shape}")
        if self.landmarks.shape != (n, 5, 2):
            raise ValueError(f"landmarks must be ({n}, 5, 2), got {self.landmarks.shape}")
        if self.scores.shape != (n,):
            raise ValueError(f"scores must be ({n},), got {self.scores.shape}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            boxes=np.zeros((0, 4), np.float32),
            landmarks=np.zeros((0, 5, 2), np.float32),
            scores=np.zeros((0,), np.float32),
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def __iter__(self) -> Iterator[Detection]:
        for i in range(len(self)):
            yield Detection(
                box=self.boxes[i].copy(),
                landmarks=self.landmarks[i].copy(),
                score=float(self.scores[i]),
            )

    def select(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp] | list[int]) -> Detections:
        """Rows chosen by a boolean mask or an index array."""
        idx = np.asarray(index)
        return Detections(
            boxes=np.ascontiguousarray(self.boxes[idx]),
            landmarks=np.ascontiguousarray(self.landmarks[idx]),
            scores=np.ascontiguousarray(self.scores[idx]),
        )

    @property
    def sizes(self) -> FloatArray:
        """``(N,)`` the shorter side of each box, in pixels."""
        wh = self.boxes[:, 2:4] - self.boxes[:, 0:2]
        return np.asarray(wh.min(axis=1), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Detection:
    """One face from :class:`Detections`."""

    box: FloatArray
    landmarks: FloatArray
    score: float


@dataclass(frozen=True, slots=True)
class FaceQuality:
    """How usable a detected face is for recognition.

    Attributes:
        inter_eye_px: distance between the two eye landmarks, in source pixels.
        sharpness: variance of the Laplacian of the aligned grey crop; higher is sharper.
        yaw: left/right turn estimated from landmarks, degrees (0 = frontal).
        pitch: up/down tilt estimated from landmarks, degrees (0 = level).
        roll: in-plane rotation of the eye line, degrees.
        det_score: the detector's confidence.
    """

    inter_eye_px: float
    sharpness: float
    yaw: float
    pitch: float
    roll: float
    det_score: float


@dataclass(frozen=True, slots=True)
class FaceCrop:
    """A face aligned to the recogniser's template, with where it came from.

    Attributes:
        image: aligned crop, BGR ``uint8`` at the recogniser's input size.
        detection: the detection it was cut from, in source-image pixels.
        quality: its quality measures.
    """

    image: ImageArray
    detection: Detection
    quality: FaceQuality


@dataclass(frozen=True, slots=True)
class Face:
    """A detected, aligned and embedded face."""

    crop: FaceCrop
    embedding: FloatArray  # (D,) float32, L2-normalised


@dataclass(frozen=True, slots=True)
class Candidate:
    """A watchlist subject returned by a 1:N search.

    Attributes:
        subject_id: the subject's reference.
        score: cosine similarity of the probe with the subject's best template.
        rank: 1 for the best candidate.
    """

    subject_id: str
    score: float
    rank: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The candidates for one probe, best first (possibly empty)."""

    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True, slots=True)
class Track:
    """A face followed across frames, as matched in the latest frame.

    Attributes:
        track_id: unique within its camera, counting from 1.
        camera_id: the camera it was seen by.
        box: ``(4,)`` float32 ``x1, y1, x2, y2`` of the detection matched in this frame.
        det_index: row of this frame's :class:`Detections` that belongs to the track.
        score: that detection's confidence.
        hits: frames in which the track has been matched so far.
        first_seen_at: capture time of its first frame, seconds since the epoch.
        last_seen_at: capture time of this frame.
    """

    track_id: int
    camera_id: str
    box: FloatArray
    det_index: int
    score: float
    hits: int
    first_seen_at: float
    last_seen_at: float


@dataclass(frozen=True, slots=True)
class Look:
    """One recognition attempt on a track: a best-shot crop embedded and searched.

    Holds no pixels and no embedding, only what the decision needs.

    Attributes:
        camera_id: the camera.
        track_id: the track the crop belongs to.
        seq: sequence number of the frame the crop was cut from.
        captured_at: that frame's capture time, seconds since the epoch.
        quality: the crop's quality measures.
        quality_score: the crop's overall quality in ``[0, 1]`` (how best shots are ranked).
        candidate: the best watchlist subject for the crop whatever its score, or
            ``None`` when the watchlist is empty.
        fused: with track fusion, the best subject for the track's fused template
            (this look and the track's earlier ones in the vote window); else ``None``.
        fused_looks: how many looks that template fuses (0 without track fusion).
    """

    camera_id: str
    track_id: int
    seq: int
    captured_at: float
    quality: FaceQuality
    quality_score: float
    candidate: Candidate | None
    fused: Candidate | None = None
    fused_looks: int = 0


@dataclass(frozen=True, slots=True)
class Alert:
    """A decision that a track matches a watchlist subject.

    Attributes:
        alert_id: unique identifier (UUID4 hex).
        camera_id: the camera.
        track_id: the track that matched.
        subject_id: the watchlist subject.
        score: the best cosine similarity among the agreeing looks.
        threshold: the threshold in force when it was raised.
        captured_at: capture time of the probe crop's frame, seconds since the epoch.
        emitted_at: when the pipeline raised it, seconds since the epoch.
        probe: the agreeing look's crop with the highest score (aligned face, its
            detection in frame pixels and its quality).
        looks: the agreeing looks that led to it, oldest first.
        watchlist: the watchlist's name.
        model_id: the embedding model that produced the scores.
        scene: a small JPEG of the frame with everything but this face obscured (see
            ``openlfr.privacy.scene``), or None.
    """

    alert_id: str
    camera_id: str
    track_id: int
    subject_id: str
    score: float
    threshold: float
    captured_at: float
    emitted_at: float
    probe: FaceCrop
    looks: tuple[Look, ...]
    watchlist: str
    model_id: str
    scene: bytes | None = None

    @property
    def latency_s(self) -> float:
        """Seconds from the capture of the deciding look's frame to the alert."""
        return self.emitted_at - self.looks[-1].captured_at
