"""The live pipeline: camera sources, tracking, best-shot recognition, per-camera runner."""

from openlfr.stream.build import camera_pack, pipeline_factory
from openlfr.stream.pipeline import CameraCounters, CameraPipeline, HeldInMemory, ModelMismatch
from openlfr.stream.runner import CameraState, CameraStatus, Runner
from openlfr.stream.sources import (
    EndOfSource,
    FrameSource,
    SourceError,
    SourceKind,
    SourceSpec,
    open_source,
    parse_source,
    redact_url,
)
from openlfr.stream.tracker import ByteTracker, TrackUpdate

__all__ = [
    "ByteTracker",
    "CameraCounters",
    "CameraPipeline",
    "CameraState",
    "CameraStatus",
    "EndOfSource",
    "FrameSource",
    "HeldInMemory",
    "ModelMismatch",
    "Runner",
    "SourceError",
    "SourceKind",
    "SourceSpec",
    "TrackUpdate",
    "camera_pack",
    "open_source",
    "parse_source",
    "pipeline_factory",
    "redact_url",
]
