"""What the models found in one evaluation image, and which face carries the label."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from openlfr.types import FloatArray


class AcquisitionStatus(StrEnum):
    """Outcome of running detection and embedding on one image."""

    OK = "ok"
    NO_FACE = "no_face"
    UNREADABLE = "unreadable"


class FaceRule(StrEnum):
    """Which detected face an image's label refers to.

    ``centre``: the face whose box centre is nearest the image centre (LFW's
    convention: the named person is the one in the middle). ``largest``: the
    face with the largest inter-eye distance (portraits, custody photos).
    """

    CENTRE = "centre"
    LARGEST = "largest"


@dataclass(frozen=True, slots=True)
class ImageFaces:
    """Every face found in one image, in that image's pixel coordinates.

    Attributes:
        status: whether faces were found, none were, or the file could not be decoded.
        width: image width in pixels (0 if unreadable).
        height: image height in pixels (0 if unreadable).
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``.
        landmarks: ``(N, 5, 2)`` five points per face.
        scores: ``(N,)`` detector confidence.
        embeddings: ``(N, D)`` L2-normalised embeddings.
        detail: why an image is unreadable (empty otherwise).
    """

    status: AcquisitionStatus
    width: int
    height: int
    boxes: FloatArray
    landmarks: FloatArray
    scores: FloatArray
    embeddings: FloatArray
    detail: str = ""

    @classmethod
    def failed(
        cls, status: AcquisitionStatus, dim: int, width: int = 0, height: int = 0, detail: str = ""
    ) -> ImageFaces:
        return cls(
            status=status,
            width=width,
            height=height,
            boxes=np.zeros((0, 4), np.float32),
            landmarks=np.zeros((0, 5, 2), np.float32),
            scores=np.zeros((0,), np.float32),
            embeddings=np.zeros((0, dim), np.float32),
            detail=detail,
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def labelled_face(self, rule: FaceRule) -> int | None:
        """Index of the face the label refers to, or ``None`` when there is none."""
        if len(self) == 0:
            return None
        if rule is FaceRule.LARGEST:
            eyes = self.landmarks[:, 1] - self.landmarks[:, 0]
            return int(np.argmax(np.hypot(eyes[:, 0], eyes[:, 1])))
        centres = (self.boxes[:, 0:2] + self.boxes[:, 2:4]) / 2
        offset = centres - np.array([self.width / 2, self.height / 2], np.float32)
        return int(np.argmin((offset**2).sum(axis=1)))

    def labelled_embedding(self, rule: FaceRule) -> FloatArray | None:
        index = self.labelled_face(rule)
        return None if index is None else self.embeddings[index]
