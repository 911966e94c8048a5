"""Why a reference image was refused, in words a watchlist manager can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectionReason(StrEnum):
    """Machine-readable reason codes (stable: the API and CLI report them)."""

    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT = "corrupt"
    TOO_LARGE_BYTES = "too_large_bytes"
    TOO_LARGE_PIXELS = "too_large_pixels"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    FACE_TOO_SMALL = "face_too_small"
    TOO_BLURRED = "too_blurred"
    EXTREME_POSE = "extreme_pose"
    LOW_CONFIDENCE = "low_confidence"


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused image: which, why (code), and what to do about it (message)."""

    source: str
    reason: RejectionReason
    message: str


class ImageRejected(Exception):
    """A single image failed a check; carries its reason code and message."""

    def __init__(self, reason: RejectionReason, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)
