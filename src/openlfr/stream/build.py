"""Wires camera pipelines from settings: per-camera detector, shared recogniser, one gallery."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from openlfr.config import Settings
from openlfr.config.models import DlibPackConfig, OnnxPathsPackConfig
from openlfr.matching.decision import rules_from_settings
from openlfr.stream.pipeline import CameraPipeline
from openlfr.vision.detector import YuNetDetector
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.vision.weights import YUNET_2023MAR, resolve_known, verified_path
from openlfr.watchlist.gallery import LiveGallery


def _detector_path(settings: Settings) -> Path:
    models = settings.models
    if isinstance(models, OnnxPathsPackConfig):
        return verified_path(
            models.detector_path,
            models.detector_sha256,
            "Check the models section of the settings.",
        )
    return resolve_known(YUNET_2023MAR)


def camera_pack(shared: ModelPack, settings: Settings) -> ModelPack:
    """The pack one camera uses.

    Each camera gets its own detector session (232 KB; YuNet's anchor cache is
    per frame size, and cameras differ). The recogniser (38 MB for SFace) is
    shared when ``pipeline.share_recogniser`` is on, except dlib's, which is not
    safe to call from several threads at once.
    """
    if not settings.pipeline.share_recogniser or isinstance(settings.models, DlibPackConfig):
        return load_pack(settings.models, settings.detector, settings.runtime)
    detector = YuNetDetector(_detector_path(settings), settings.detector, settings.runtime)
    return ModelPack(detector=detector, recogniser=shared.recogniser, name=shared.name)


def pipeline_factory(
    settings: Settings,
    shared: ModelPack,
    gallery: LiveGallery,
    *,
    watchlist: str,
    threshold: float | None = None,
    clock: Callable[[], float] = time.time,
) -> Callable[[str], CameraPipeline]:
    """A function building each camera's pipeline on the same gallery and rules."""
    rules = rules_from_settings(settings, threshold)

    def build(camera_id: str) -> CameraPipeline:
        return CameraPipeline(
            camera_id,
            camera_pack(shared, settings),
            gallery,
            rules,
            settings.pipeline,
            watchlist=watchlist,
            clock=clock,
        )

    return build
