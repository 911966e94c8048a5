"""The bridge from the recognition core's quality gate to stored, sealed reference images."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from openlfr.storage.errors import DomainError
from openlfr.types import FloatArray
from openlfr.watchlist.models import Template
from openlfr.watchlist.rejections import Rejection


class TemplateSource(Protocol):
    """Turns reference image bytes into a template, or raises ``ImageRejected``."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def template_for(self, data: bytes, source_name: str) -> Template: ...


TemplateSourceProvider = Callable[[], TemplateSource]


class EnrolmentRefused(DomainError):
    """At least one image failed the quality gate; nothing was stored.

    Carries every rejection, exactly as the core's ``enrol`` reports them.
    """

    code = "enrolment_rejected"
    commit_anyway = True  # the refusal itself is audited

    def __init__(self, rejections: list[Rejection]) -> None:
        super().__init__(
            f"{len(rejections)} image(s) refused; nothing was enrolled: "
            + "; ".join(f"{r.source}: {r.message}" for r in rejections)
        )
        self.rejections = rejections


@dataclass(frozen=True, slots=True)
class GateTemplateSource:
    """A :class:`TemplateSource` over the core's ``QualityGate`` and model pack."""

    model_id: str
    dim: int
    template_for: Callable[[bytes, str], Template]


_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"BM", 0, "image/bmp"),
    (b"WEBP", 8, "image/webp"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
)


def media_type(data: bytes) -> str:
    """The media type of an accepted reference image, from its first bytes."""
    for signature, offset, kind in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return kind
    return "application/octet-stream"


def embedding_bytes(embedding: FloatArray) -> bytes:
    return np.asarray(embedding, dtype="<f4").tobytes()


def embedding_from(data: bytes) -> FloatArray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
