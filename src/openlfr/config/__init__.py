"""Strict, documented settings for every part of openlfr."""

from openlfr.config.models import (
    DetectorConfig,
    DlibPackConfig,
    ModelPackConfig,
    OnnxPathsPackConfig,
    RuntimeConfig,
    SFacePackConfig,
)
from openlfr.config.settings import (
    DEFAULT_THRESHOLD,
    DEFAULT_VERIFY_THRESHOLD,
    EnrolmentConfig,
    MatchingConfig,
    Settings,
    config_file_path,
    default_home,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_VERIFY_THRESHOLD",
    "DetectorConfig",
    "DlibPackConfig",
    "EnrolmentConfig",
    "MatchingConfig",
    "ModelPackConfig",
    "OnnxPathsPackConfig",
    "RuntimeConfig",
    "SFacePackConfig",
    "Settings",
    "config_file_path",
    "default_home",
]
