"""Run detection and embedding over evaluation images once, through the encrypted cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from openlfr.evaluation.cache import EmbeddingCache, image_digest
from openlfr.evaluation.faces import AcquisitionStatus, ImageFaces
from openlfr.types import ImageArray
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.images import load_reference_image
from openlfr.watchlist.rejections import ImageRejected

# Called after each image with (images done, images in total, served from cache so far).
ProgressCallback = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """The same limits enrolment applies, so evaluation reads images as enrolment would."""

    max_bytes: int
    max_pixels: int


def pad_image(image: ImageArray, pad: float) -> tuple[ImageArray, int]:
    """Add a black border of ``pad`` × the longer side on every side; returns the offset.

    Tightly cropped, pre-aligned faces (UTKFace's 200×200 chips) fill the whole
    frame, a layout face detectors are not trained on; a border restores the
    context they expect.
    """
    if pad <= 0:
        return image, 0
    border = round(pad * max(image.shape[:2]))
    padded = cv2.copyMakeBorder(image, border, border, border, border, cv2.BORDER_CONSTANT, value=0)
    return np.ascontiguousarray(padded, dtype=np.uint8), border


def analyse_image(pack: ModelPack, data: bytes, *, pad: float, limits: DecodeLimits) -> ImageFaces:
    """Decode, optionally pad, detect, align and embed every face of one image."""
    dim = pack.recogniser.dim
    try:
        image = load_reference_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    except ImageRejected as exc:
        return ImageFaces.failed(AcquisitionStatus.UNREADABLE, dim, detail=exc.message)
    height, width = image.shape[:2]
    padded, offset = pad_image(image, pad)
    detections = pack.detect(padded)
    if len(detections) == 0:
        return ImageFaces.failed(AcquisitionStatus.NO_FACE, dim, width, height)
    faces = pack.embed(pack.crops(padded, detections))
    shift = np.float32(offset)
    return ImageFaces(
        status=AcquisitionStatus.OK,
        width=width,
        height=height,
        boxes=np.ascontiguousarray(detections.boxes - shift),
        landmarks=np.ascontiguousarray(detections.landmarks - shift),
        scores=detections.scores.copy(),
        embeddings=np.stack([f.embedding for f in faces]).astype(np.float32),
    )


def extract_faces(
    pack: ModelPack,
    paths: Sequence[Path],
    *,
    cache: EmbeddingCache | None,
    pad: float,
    limits: DecodeLimits,
    progress: ProgressCallback | None = None,
) -> list[ImageFaces]:
    """:class:`ImageFaces` for every path, in order, computing only what the cache lacks.

    A file that cannot be read from disk, or decoded, becomes an ``UNREADABLE``
    entry with the reason, so one bad image never stops an evaluation.
    """
    results: list[ImageFaces] = []
    cached = 0
    dim = pack.recogniser.dim
    for done, path in enumerate(paths, start=1):
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(
                ImageFaces.failed(
                    AcquisitionStatus.UNREADABLE, dim, detail=f"cannot read file: {exc.strerror}"
                )
            )
        else:
            digest = image_digest(data)
            faces = cache.get(digest) if cache is not None else None
            # A refusal is never trusted from the cache: it costs nothing to redo, and a
            # newer openlfr may read the file (grey PGM photos used to be refused).
            if (
                faces is not None
                and faces.status is not AcquisitionStatus.UNREADABLE
                and faces.embeddings.shape[1] == dim
            ):
                cached += 1
            else:
                faces = analyse_image(pack, data, pad=pad, limits=limits)
                if cache is not None and faces.status is not AcquisitionStatus.UNREADABLE:
                    cache.put(digest, faces)
            results.append(faces)
        if progress is not None:
            progress(done, len(paths), cached)
    return results
