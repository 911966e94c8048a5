"""A reference template: one embedding of a subject's photo and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from openlfr.types import FaceQuality, FloatArray


@dataclass(frozen=True, slots=True)
class Template:
    """One reference embedding and where it came from (never the image itself)."""

    embedding: FloatArray
    source_name: str
    source_sha256: str
    quality: FaceQuality
    enrolled_at: datetime
