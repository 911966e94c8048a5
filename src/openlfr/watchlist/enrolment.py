"""Enrolment: the reference-image quality gate and all-or-nothing watchlist updates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from openlfr.config import EnrolmentConfig
from openlfr.types import Face
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.images import load_reference_image
from openlfr.watchlist.models import Template, Watchlist, validate_name
from openlfr.watchlist.rejections import (
    EnrolmentRejected,
    ImageRejected,
    Rejection,
    RejectionReason,
)
from openlfr.watchlist.store import WatchlistNotFound, WatchlistStore


class WatchlistModelMismatch(ValueError):
    """The watchlist was built with another recogniser; its templates are not comparable."""


class QualityGate:
    """Turns one reference image into one template, or says exactly why not."""

    def __init__(self, pack: ModelPack, config: EnrolmentConfig) -> None:
        self._pack = pack
        self._config = config

    def template_for(self, data: bytes, source_name: str) -> Template:
        """The template of the single usable face in ``data``; :class:`ImageRejected` otherwise."""
        cfg = self._config
        image = load_reference_image(data, max_bytes=cfg.max_bytes, max_pixels=cfg.max_pixels)
        face = self.single_face(self._pack.analyse(image))
        return Template(
            embedding=face.embedding,
            source_name=source_name,
            source_sha256=hashlib.sha256(data).hexdigest(),
            quality=face.crop.quality,
            enrolled_at=datetime.now(UTC),
        )

    def single_face(self, faces: list[Face]) -> Face:
        """The one face that passes every minimum, or the first reason it does not."""
        cfg = self._config
        if not faces:
            raise ImageRejected(
                RejectionReason.NO_FACE,
                "no face found; use a photo where the face is clearly visible and unobstructed",
            )
        largest = max(faces, key=lambda f: f.crop.quality.inter_eye_px)
        cutoff = cfg.secondary_face_ratio * largest.crop.quality.inter_eye_px
        prominent = [f for f in faces if f.crop.quality.inter_eye_px >= cutoff]
        if len(prominent) > 1:
            raise ImageRejected(
                RejectionReason.SEVERAL_FACES,
                f"{len(prominent)} faces found; crop the photo to the subject alone",
            )
        q = largest.crop.quality
        if q.det_score < cfg.min_detector_score:
            raise ImageRejected(
                RejectionReason.LOW_CONFIDENCE,
                f"the face is not clear enough to be sure it is one (confidence {q.det_score:.2f}, "
                f"minimum {cfg.min_detector_score:.2f}); use a clearer, well-lit photo",
            )
        if q.inter_eye_px < cfg.min_inter_eye_px:
            raise ImageRejected(
                RejectionReason.FACE_TOO_SMALL,
                f"face too small: {q.inter_eye_px:.0f} px between the eyes, minimum "
                f"{cfg.min_inter_eye_px:.0f} px; use a higher-resolution or closer photo",
            )
        if abs(q.yaw) > cfg.max_yaw_deg or abs(q.pitch) > cfg.max_pitch_deg:
            raise ImageRejected(
                RejectionReason.EXTREME_POSE,
                f"face turned too far (about {abs(q.yaw):.0f}° sideways, {abs(q.pitch):.0f}° "
                f"up/down; limits {cfg.max_yaw_deg:.0f}° and {cfg.max_pitch_deg:.0f}°); "
                "use a photo facing the camera",
            )
        if q.sharpness < cfg.min_sharpness:
            raise ImageRejected(
                RejectionReason.TOO_BLURRED,
                f"face too blurred (sharpness {q.sharpness:.1f}, minimum {cfg.min_sharpness:.1f}); "
                "use a sharper photo",
            )
        return largest


@dataclass(frozen=True, slots=True)
class EnrolmentReport:
    """What an accepted enrolment added."""

    watchlist: str
    subject_id: str
    templates_added: int
    subject_templates: int
    created_watchlist: bool


def enrol(
    store: WatchlistStore,
    gate: QualityGate,
    *,
    watchlist_name: str,
    subject_id: str,
    model_id: str,
    dim: int,
    images: list[tuple[str, bytes]],
) -> EnrolmentReport:
    """Add ``images`` of one subject to a watchlist, creating it if needed.

    All or nothing: every image is checked first; if any is rejected,
    :class:`EnrolmentRejected` lists every rejection and the store is untouched.
    """
    validate_name("watchlist name", watchlist_name)
    validate_name("subject id", subject_id)
    if not images:
        raise ValueError("at least one reference image is required")
    try:
        watchlist = store.load(watchlist_name)
        created = False
    except WatchlistNotFound:
        watchlist = Watchlist(name=watchlist_name, model_id=model_id, dim=dim)
        created = True
    if watchlist.model_id != model_id:
        raise WatchlistModelMismatch(
            f"watchlist {watchlist_name!r} holds {watchlist.model_id} templates but the "
            f"configured model is {model_id}; re-enrol it with this model or change the model"
        )
    templates: list[Template] = []
    rejections: list[Rejection] = []
    for source, data in images:
        try:
            templates.append(gate.template_for(data, source))
        except ImageRejected as exc:
            rejections.append(Rejection(source, exc.reason, exc.message))
    if rejections:
        raise EnrolmentRejected(rejections)
    updated = watchlist.with_templates(subject_id, templates)
    store.save(updated)
    subject = updated.subject(subject_id)
    return EnrolmentReport(
        watchlist=watchlist_name,
        subject_id=subject_id,
        templates_added=len(templates),
        subject_templates=len(subject.templates) if subject else 0,
        created_watchlist=created,
    )
