"""Enrolment's quality gate: one reference image becomes one template, or a clear refusal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from openlfr.config import EnrolmentConfig
from openlfr.types import Face
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.images import load_reference_image
from openlfr.watchlist.models import Template
from openlfr.watchlist.rejections import ImageRejected, RejectionReason


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
