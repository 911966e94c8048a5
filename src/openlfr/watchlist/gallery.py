"""Exact cosine 1:N search over a watchlist's templates, swapped atomically."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from openlfr.types import Candidate, FloatArray, SearchResult


class TemplateFusion(StrEnum):
    """How a subject's several reference embeddings become its score.

    ``mean``: one template per subject, the normalised mean of its references
    (their centroid on the sphere); with three in-the-wild references it found
    more listed people at the same threshold than the best single reference did
    (``bench/wild_accuracy.py``: celeba-dev TPIR at 0.52, 91.6% against 89.7%).
    ``max``: the best cosine over the references, each kept as it is.
    """

    MEAN = "mean"
    MAX = "max"


class Gallery:
    """An immutable, searchable snapshot of one watchlist's templates.

    A subject's score for a probe is the cosine with the normalised mean of its
    reference embeddings (``fusion="mean"``, the default) or the best cosine
    over them (``fusion="max"``). Searching is a single matrix product, exact,
    and cheap for watchlist sizes up to a few hundred thousand templates
    (``bench/search.py``).

    Args:
        subject_ids: one entry per template row, the subject that row belongs to.
        templates: ``(M, D)`` unit vectors.
        model_id: the embedding space the templates live in.
        fusion: how several rows of one subject combine (see :class:`TemplateFusion`).
    """

    def __init__(
        self,
        subject_ids: Sequence[str],
        templates: FloatArray,
        model_id: str,
        fusion: TemplateFusion = TemplateFusion.MEAN,
    ) -> None:
        templates = np.asarray(templates, dtype=np.float32)
        if templates.ndim != 2 or templates.shape[0] != len(subject_ids):
            raise ValueError(
                f"templates {templates.shape} do not match {len(subject_ids)} subject ids"
            )
        # Group rows by subject so per-subject maxima are one reduceat call.
        order = np.argsort(np.asarray(subject_ids, dtype=object), kind="stable")
        sorted_ids = [subject_ids[i] for i in order]
        rows = templates[order]
        starts = [i for i in range(len(sorted_ids)) if i == 0 or sorted_ids[i] != sorted_ids[i - 1]]
        self._subjects = tuple(sorted_ids[i] for i in starts)
        self._rows = len(sorted_ids)
        if fusion is TemplateFusion.MEAN and len(starts) < self._rows:
            sums = np.add.reduceat(rows, np.asarray(starts, dtype=np.intp), axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            rows = sums / np.maximum(norms, 1e-12)
            starts = list(range(len(starts)))
        self._templates = np.ascontiguousarray(rows, dtype=np.float32)
        self._templates.setflags(write=False)
        self._starts = np.asarray(starts, dtype=np.intp)
        self.fusion = fusion
        self.model_id = model_id

    @classmethod
    def empty(cls, dim: int, model_id: str) -> Gallery:
        return cls([], np.zeros((0, dim), np.float32), model_id)

    @property
    def dim(self) -> int:
        return int(self._templates.shape[1])

    @property
    def subjects(self) -> tuple[str, ...]:
        return self._subjects

    @property
    def template_count(self) -> int:
        """Reference embeddings given (before any fusion)."""
        return self._rows

    def __len__(self) -> int:
        return len(self._subjects)

    def rows(self) -> tuple[list[str], FloatArray]:
        """Each template row's subject and the ``(M, D)`` templates (to rebuild it elsewhere)."""
        bounds = [*self._starts.tolist(), int(self._templates.shape[0])]
        ids = [
            s
            for s, a, b in zip(self._subjects, bounds, bounds[1:], strict=False)
            for _ in range(b - a)
        ]
        return ids, self._templates

    def subject_scores(self, probes: FloatArray) -> FloatArray:
        """``(P, S)`` score of each probe for each subject (columns as ``subjects``)."""
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        if probes.shape[1] != self.dim:
            raise ValueError(
                f"probe dimension {probes.shape[1]} does not match the gallery's {self.dim} "
                f"(model {self.model_id})"
            )
        if not self._subjects:
            return np.zeros((probes.shape[0], 0), np.float32)
        sims = probes @ self._templates.T
        if len(self._starts) == self._templates.shape[0]:
            return sims  # one template per subject: nothing to reduce
        return np.asarray(np.maximum.reduceat(sims, self._starts, axis=1), dtype=np.float32)

    def search(
        self, probes: FloatArray, *, top_k: int = 5, threshold: float | None = None
    ) -> list[SearchResult]:
        """Best ``top_k`` subjects per probe, best first; only those ``>= threshold`` if given.

        An empty gallery returns an empty result for every probe, not an error.
        """
        scores = self.subject_scores(probes)
        results = []
        k = min(top_k, scores.shape[1])
        for row in scores:
            top = _top_k_indices(row, k)
            candidates = []
            for rank, idx in enumerate(top, start=1):
                score = float(row[idx])
                if threshold is not None and score < threshold:
                    break
                candidates.append(Candidate(self._subjects[idx], score, rank))
            results.append(SearchResult(tuple(candidates)))
        return results


def _top_k_indices(row: FloatArray, k: int) -> npt.NDArray[np.intp]:
    if k <= 0:
        return np.zeros((0,), np.intp)
    # argpartition finds the k best in linear time; only those k are sorted.
    part = np.argpartition(-row, k - 1)[:k] if k < row.shape[0] else np.arange(row.shape[0])
    return part[np.argsort(-row[part], kind="stable")]


class LiveGallery:
    """Holds the gallery that searches use now; replacing it is atomic.

    A search takes one reference to the current snapshot and uses only it, so a
    concurrent :meth:`replace` never shows a half-updated watchlist.
    """

    def __init__(self, gallery: Gallery) -> None:
        self._gallery = gallery
        self._lock = threading.Lock()

    @property
    def current(self) -> Gallery:
        return self._gallery

    def replace(self, gallery: Gallery) -> Gallery:
        """Install ``gallery`` and return the one it replaced."""
        with self._lock:
            old, self._gallery = self._gallery, gallery
        return old

    def search(
        self, probes: FloatArray, *, top_k: int = 5, threshold: float | None = None
    ) -> list[SearchResult]:
        return self._gallery.search(probes, top_k=top_k, threshold=threshold)
