"""Watchlist records: subjects and their reference templates (immutable values)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from openlfr.types import FaceQuality, FloatArray
from openlfr.watchlist.gallery import Gallery

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_name(kind: str, value: str) -> str:
    """Names become file names and URL parts: keep them to a safe alphabet."""
    if not _NAME.match(value):
        raise ValueError(
            f"{kind} {value!r} is not valid: use 1–64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class Template:
    """One reference embedding and where it came from (never the image itself)."""

    embedding: FloatArray
    source_name: str
    source_sha256: str
    quality: FaceQuality
    enrolled_at: datetime


@dataclass(frozen=True, slots=True)
class Subject:
    """A person on a watchlist, with every reference template kept."""

    subject_id: str
    templates: tuple[Template, ...]


@dataclass(frozen=True, slots=True)
class Watchlist:
    """A named set of subjects in one embedding space (``model_id``)."""

    name: str
    model_id: str
    dim: int
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    subjects: tuple[Subject, ...] = ()

    def subject(self, subject_id: str) -> Subject | None:
        return next((s for s in self.subjects if s.subject_id == subject_id), None)

    def with_templates(self, subject_id: str, templates: list[Template]) -> Watchlist:
        """A copy with ``templates`` added to the subject (created if new)."""
        existing = self.subject(subject_id)
        if existing is None:
            subjects = (*self.subjects, Subject(subject_id, tuple(templates)))
        else:
            updated = Subject(subject_id, existing.templates + tuple(templates))
            subjects = tuple(updated if s is existing else s for s in self.subjects)
        return replace(self, subjects=subjects)

    def without_subject(self, subject_id: str) -> Watchlist:
        return replace(self, subjects=tuple(s for s in self.subjects if s.subject_id != subject_id))

    @property
    def template_count(self) -> int:
        return sum(len(s.templates) for s in self.subjects)

    def gallery(self) -> Gallery:
        """The searchable snapshot of every template."""
        ids = [s.subject_id for s in self.subjects for _ in s.templates]
        if not ids:
            return Gallery.empty(self.dim, self.model_id)
        matrix = np.stack([t.embedding for s in self.subjects for t in s.templates])
        return Gallery(ids, matrix, self.model_id)
