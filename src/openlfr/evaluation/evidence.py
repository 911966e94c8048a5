"""A calibration as a portable, hashable document: the evidence a deployment's threshold rests on.

``openlfr calibrate --record FILE`` writes one; the control plane stores it
(``POST /api/v1/calibrations``) under its SHA-256 and a deployment cites it.
The document names the embedding space it was measured in (``model_id``: the
same string a watchlist's templates carry), so evidence for one model can
never back a threshold for another.

The hash is taken over the canonical JSON (sorted keys, no spaces, UTF-8), so
anyone holding the file can recompute the figure a deployment record shows.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from openlfr.evaluation.calibration import Calibration

FORMAT = "openlfr-calibration/1"
# Thresholds are compared on the calibration grid (0.001); this absorbs float noise.
_TOLERANCE = 1e-9


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes the hash is taken over: sorted keys, compact separators, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def calibration_document(
    result: Calibration,
    *,
    model_id: str,
    pack: str,
    dataset: str,
    searches: dict[str, int],
    created_at: str,
    openlfr_version: str,
    command: str,
) -> dict[str, Any]:
    """The stored form of one calibration (numbers only: no image, no embedding)."""

    def num(value: float) -> float | None:
        return round(float(value), 6) if math.isfinite(value) else None

    return {
        "format": FORMAT,
        "model_id": model_id,
        "pack": pack,
        "dataset": dataset,
        "searches": dict(searches),
        "created_at": created_at,
        "openlfr_version": openlfr_version,
        "command": command,
        "threshold": num(result.threshold),
        "rule": str(result.rule),
        "target_fpir": result.target_fpir,
        "watchlist_size": result.watchlist_size,
        "measured_size": result.measured_size,
        "scaling_model": str(result.model),
        "resolved": result.resolved,
        "fpir": num(result.fpir),
        "fpir_hi": num(result.fpir_hi),
        "tpir": num(result.tpir),
        "tpir_lo": num(result.tpir_lo),
        "tpir_hi": num(result.tpir_hi),
        "point_threshold": num(result.point_threshold),
        "threshold_range": [num(result.lo_threshold), num(result.hi_threshold)],
    }


class EvidenceError(ValueError):
    """A calibration document that cannot be used as evidence, with the reason."""


@dataclass(frozen=True, slots=True)
class CalibrationEvidence:
    """The fields of a calibration document that decide what it can back."""

    model_id: str
    pack: str
    dataset: str
    threshold: float
    target_fpir: float
    watchlist_size: int
    resolved: bool
    sha256: str


def parse_document(document: object) -> CalibrationEvidence:
    """Check a calibration document; :class:`EvidenceError` says what is wrong with it."""
    if not isinstance(document, dict):
        raise EvidenceError("a calibration document is a JSON object")
    if document.get("format") != FORMAT:
        raise EvidenceError(
            f"not a calibration document (format {document.get('format')!r}, expected "
            f"{FORMAT!r}); write one with 'openlfr calibrate --record FILE'"
        )
    try:
        model_id = str(document["model_id"])
        pack = str(document["pack"])
        dataset = str(document["dataset"])
        raw_threshold = document["threshold"]
        target = float(document["target_fpir"])
        size = int(document["watchlist_size"])
        resolved = bool(document["resolved"])
    except (KeyError, TypeError, ValueError) as exc:
        raise EvidenceError(f"calibration document lacks or garbles {exc}") from exc
    if raw_threshold is None:
        raise EvidenceError(
            "this calibration found no threshold that meets its target: it backs none"
        )
    threshold = float(raw_threshold)
    if not (model_id and -1.0 <= threshold <= 1.0 and 0.0 < target < 1.0 and size >= 1):
        raise EvidenceError("calibration document has out-of-range values")
    return CalibrationEvidence(
        model_id=model_id,
        pack=pack,
        dataset=dataset,
        threshold=threshold,
        target_fpir=target,
        watchlist_size=size,
        resolved=resolved,
        sha256=document_sha256(document),
    )


def backing_problem(
    evidence: CalibrationEvidence, *, model_id: str, threshold: float, subjects: int
) -> str | None:
    """Why ``evidence`` does not back this threshold for this watchlist, or ``None`` if it does.

    A threshold at or above the calibrated one is backed: FPIR never rises as the
    threshold rises. A watchlist larger than the calibrated size is not: FPIR
    grows with the number of subjects searched.
    """
    if evidence.model_id != model_id:
        return (
            f"the calibration was measured with model {evidence.model_id}, but this watchlist's "
            f"templates are {model_id}: calibrate this model"
        )
    if not evidence.resolved:
        return (
            "the calibration is unresolved (its data cannot show FPIR as low as its target): "
            "it backs no threshold"
        )
    if threshold < evidence.threshold - _TOLERANCE:
        return (
            f"threshold {threshold:.3f} is below the calibrated {evidence.threshold:.3f} "
            f"(FPIR {evidence.target_fpir:.3g} at {evidence.watchlist_size:,} subjects): raise it "
            "or calibrate for it"
        )
    if subjects > evidence.watchlist_size:
        return (
            f"the watchlist has {subjects:,} subjects but the calibration covers at most "
            f"{evidence.watchlist_size:,}: FPIR grows with watchlist size; calibrate for this size"
        )
    return None
