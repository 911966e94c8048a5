"""The root settings tree: environment variables, an optional TOML file, defaults."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from openlfr.config.authorisation import AuthorisationConfig
from openlfr.config.models import (
    DetectorConfig,
    ModelPackConfig,
    RuntimeConfig,
    SFacePackConfig,
)
from openlfr.config.pipeline import PipelineConfig
from openlfr.config.server import (
    AuditConfig,
    AuthConfig,
    DatabaseConfig,
    GovernanceConfig,
    HttpConfig,
    NotifyConfig,
    RetentionConfig,
)
from openlfr.config.workers import WorkerConfig

# Chosen from the lfw-dev measurements in docs/recognition.md; see there.
DEFAULT_THRESHOLD = 0.52  # 1:N watchlist search (alerts); docs/recognition.md says why
DEFAULT_VERIFY_THRESHOLD = 0.40  # 1:1 comparison of two photos


def default_home() -> Path:
    """Where openlfr keeps its state unless ``OPENLFR_HOME`` says otherwise."""
    return Path(os.environ.get("OPENLFR_HOME", Path.home() / ".openlfr"))


def config_file_path() -> Path:
    """The TOML settings file read at start-up (``OPENLFR_CONFIG`` overrides)."""
    return Path(os.environ.get("OPENLFR_CONFIG", default_home() / "config.toml"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnrolmentConfig(_Strict):
    """Quality gate every reference image must pass before it is enrolled.

    Tightening these keeps poor references (that raise false alerts or miss
    people) off a watchlist; loosening them admits more photos.
    """

    max_bytes: int = Field(
        default=20_000_000, ge=1, description="Largest accepted image file, in bytes."
    )
    max_pixels: int = Field(
        default=40_000_000, ge=1, description="Largest accepted image, in pixels (width × height)."
    )
    min_inter_eye_px: float = Field(
        default=28.0,
        ge=1.0,
        description="Smallest accepted distance between the eyes, in source pixels.",
    )
    min_sharpness: float = Field(
        default=25.0,
        ge=0.0,
        description=(
            "Smallest accepted variance of the Laplacian of the aligned grey crop. On lfw-dev "
            "photos the 1st percentile is about 52; a Gaussian blur of sigma 2 px brings the "
            "median to about 17."
        ),
    )
    max_yaw_deg: float = Field(
        default=40.0, gt=0.0, le=90.0, description="Largest accepted left/right turn, degrees."
    )
    max_pitch_deg: float = Field(
        default=35.0, gt=0.0, le=90.0, description="Largest accepted up/down tilt, degrees."
    )
    min_detector_score: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Smallest accepted detector confidence."
    )
    secondary_face_ratio: float = Field(
        default=0.35,
        gt=0.0,
        le=1.0,
        description=(
            "A second face counts towards 'several faces' when its inter-eye distance is at "
            "least this share of the largest face's; smaller faces (people far behind) are "
            "ignored."
        ),
    )


class MatchingConfig(_Strict):
    """1:N search settings."""

    threshold: float = Field(
        default=DEFAULT_THRESHOLD,
        ge=-1.0,
        le=1.0,
        description=(
            "Cosine similarity at or above which a candidate is reported. Raising it lowers "
            "false alerts (FPIR) and raises misses (FNIR); see docs/recognition.md."
        ),
    )
    verify_threshold: float = Field(
        default=DEFAULT_VERIFY_THRESHOLD,
        ge=-1.0,
        le=1.0,
        description=(
            "Cosine similarity at or above which two photos are declared the same person (1:1). "
            "Lower than the 1:N threshold because one comparison has one chance of a false "
            "match, a watchlist search has one per template."
        ),
    )
    top_k: int = Field(default=5, ge=1, le=1000, description="Candidates returned per search.")


class Settings(BaseSettings):
    """Every setting openlfr reads. Environment: ``OPENLFR_<SECTION>__<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="OPENLFR_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    home: Path = Field(
        default_factory=default_home,
        description="Folder for local state: watchlists, keys, caches.",
    )
    key_file: Path | None = Field(
        default=None,
        description=(
            "AES-256 key for biometric data at rest. Defaults to <home>/keys/data.key, created "
            "on first use; OPENLFR_DATA_KEY (base64) takes precedence over any file."
        ),
    )
    models: ModelPackConfig = Field(default_factory=SFacePackConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    enrolment: EnrolmentConfig = Field(default_factory=EnrolmentConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    authorisation: AuthorisationConfig = Field(default_factory=AuthorisationConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments beat the environment, which beats the TOML file.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, toml)

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "keys" / "data.key"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.audit.signing_key_file or self.home / "keys" / "audit-signing.key"

    @property
    def checkpoint_file(self) -> Path:
        return self.audit.checkpoint_file or self.home / "audit" / "checkpoints.jsonl"

    @property
    def watchlist_dir(self) -> Path:
        """Where earlier versions kept the command line's sealed watchlist files. Nothing
        reads or writes it now (watchlists live in the database), but files left there are
        still data sealed under the key."""
        return self.home / "watchlists"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.home / 'openlfr.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.database.blob_dir or self.home / "blobs"
