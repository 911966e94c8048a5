"""Camera sources: video files, RTSP/HTTP streams, webcams and image folders, one interface."""

from __future__ import annotations

import time

from openlfr.config.pipeline import SourceConfig
from openlfr.stream.sources.base import (
    Clock,
    EndOfSource,
    FrameSource,
    Gap,
    NewestFrameSlot,
    SourceError,
    SourceState,
    SourceStats,
)
from openlfr.stream.sources.folder import FolderSource
from openlfr.stream.sources.spec import (
    SourceKind,
    SourceSpec,
    parse_source,
    redact_url,
    scrub,
)
from openlfr.stream.sources.video import VideoSource


def open_source(spec: SourceSpec, config: SourceConfig, *, clock: Clock = time.time) -> FrameSource:
    """The source for ``spec``, opened (raises :class:`SourceError` if it cannot be)."""
    source: FrameSource
    if spec.kind is SourceKind.FOLDER:
        source = FolderSource(spec, config, clock=clock)
    else:
        source = VideoSource(spec, config, clock=clock)
    source.open()
    return source


__all__ = [
    "Clock",
    "EndOfSource",
    "FolderSource",
    "FrameSource",
    "Gap",
    "NewestFrameSlot",
    "SourceError",
    "SourceKind",
    "SourceSpec",
    "SourceState",
    "SourceStats",
    "VideoSource",
    "open_source",
    "parse_source",
    "redact_url",
    "scrub",
]
