"""Wires camera pipelines from settings: per-camera detector, shared recogniser, one gallery."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

from openlfr.config import Settings
from openlfr.config.models import DlibPackConfig, OnnxPathsPackConfig
from openlfr.matching.decision import rules_from_settings
from openlfr.stream.pipeline import CameraPipeline
from openlfr.types import Detections, ImageArray
from openlfr.vision.batching import Batcher, BatchingRecogniser
from openlfr.vision.detector import YuNetDetector
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.vision.providers import on_gpu
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


def threads_per_camera(cameras: int, cores: int | None = None) -> int:
    """Model threads per session when the settings leave it open (``runtime.threads = 0``).

    Every camera already keeps most of a core busy decoding and running its
    Python; sessions that each take every core oversubscribe the CPU. On the
    2-core development machine (``bench/pipeline.py``, 1080p at 25 fps), all-core
    sessions ran two cameras at 23 fps each with 28 frames dropped in 8 s and
    p95 latency 107 ms; one thread per session ran them at 24 fps with 6–16
    dropped and p95 81–94 ms, and one camera's p95 fell from 55 to 38 ms.
    Small models gain little past four threads.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, (cores - cameras) // max(cameras, 1)))


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


def batching_on(settings: Settings) -> bool:
    """Whether cameras share batched model calls (``pipeline.batching``)."""
    mode = settings.pipeline.batching.mode
    if mode != "auto":
        return mode == "on"
    return on_gpu(settings.runtime)


@dataclass(frozen=True, slots=True)
class SharedModels:
    """The model services the cameras of one factory share when batching is on."""

    recogniser: BatchingRecogniser
    windows: Batcher[ImageArray, Detections] | None


def shared_models(shared: ModelPack, settings: Settings, cameras: int) -> SharedModels:
    wait = settings.pipeline.batching.max_wait_ms / 1000.0
    recogniser = BatchingRecogniser(shared.recogniser, wait, expected=cameras)
    windows = None
    if isinstance(shared.detector, YuNetDetector):
        windows = Batcher(
            shared.detector.run_patches,
            max_wait_s=wait,
            max_batch=settings.runtime.max_batch,
            expected=cameras,
        )
    return SharedModels(recogniser, windows)


def batched_pack(models: SharedModels, settings: Settings, name: str) -> ModelPack:
    """A camera's pack on the shared services: its own full-frame detector session, its
    windows and embeddings through the batchers."""
    detector = YuNetDetector(_detector_path(settings), settings.detector, settings.runtime)
    detector.patch_runner = models.windows
    return ModelPack(detector=detector, recogniser=models.recogniser, name=name)


def pipeline_factory(
    settings: Settings,
    shared: ModelPack,
    gallery: LiveGallery,
    *,
    watchlist: str,
    threshold: float | None = None,
    clock: Callable[[], float] = time.time,
    cameras: int = 1,
) -> Callable[[str], CameraPipeline]:
    """A function building each camera's pipeline on the same gallery and rules.

    ``cameras`` (how many will run at once) sizes the model threads when
    ``runtime.threads`` is 0; see :func:`threads_per_camera`.
    """
    rules = rules_from_settings(settings, threshold)
    if settings.runtime.threads == 0:
        threads = threads_per_camera(cameras)
        settings = settings.model_copy(
            update={"runtime": settings.runtime.model_copy(update={"threads": threads})}
        )
        # The shared recogniser's OpenCV engine uses OpenCV's global thread pool.
        cv2.setNumThreads(threads)

    models = None
    if batching_on(settings) and not isinstance(settings.models, DlibPackConfig):
        models = shared_models(shared, settings, cameras)

    def build(camera_id: str) -> CameraPipeline:
        pack = (
            camera_pack(shared, settings)
            if models is None
            else batched_pack(models, settings, shared.name)
        )
        return CameraPipeline(
            camera_id,
            pack,
            gallery,
            rules,
            settings.pipeline,
            watchlist=watchlist,
            clock=clock,
        )

    return build
