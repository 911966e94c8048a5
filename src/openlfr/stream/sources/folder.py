"""A folder of images read as one camera's frames, in file-name order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from openlfr.stream.sources.base import FrameSource, SourceError
from openlfr.types import ImageArray

log = logging.getLogger("openlfr.stream")

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def _same(image: ImageArray) -> ImageArray:
    return image


class FolderSource(FrameSource):
    """Images in a folder (e.g. a camera's exported snapshots), sorted by name.

    They are treated as consecutive frames ``1 / folder_fps`` seconds apart, so
    faces are tracked across them. A file that cannot be decoded is skipped and
    counted (``unreadable``), never fatal.
    """

    _files: list[Path]

    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self.config.folder_fps

    def _open(self) -> None:
        root = Path(self.spec.location)
        if not root.is_dir():
            raise SourceError(f"{self.spec.camera_id}: no such folder: {root}")
        files = sorted(
            p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        if not files:
            raise SourceError(
                f"{self.spec.camera_id}: folder {root} holds no images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        self._files = files

    def _duration_s(self) -> float | None:
        return len(self._files) * self.frame_interval_s

    def _decode(self) -> Iterator[tuple[float | None, Callable[[], ImageArray]]]:
        for index, path in enumerate(self._files):
            try:
                data = np.frombuffer(path.read_bytes(), np.uint8)
                image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            except OSError:
                image = None
            if image is None:
                self._count_unreadable()
                log.warning(
                    "camera %s: skipped unreadable image %s", self.spec.camera_id, path.name
                )
                continue
            yield index * self.frame_interval_s, partial(_same, np.ascontiguousarray(image))

    def _close(self) -> None:
        pass
