"""Settings of the control plane: database, authentication, retention, notifications, policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    """Where records and encrypted biometric blobs are kept."""

    url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL. Default: an embedded SQLite file <home>/openlfr.db in WAL mode. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/dbname (needs the 'postgres' extra)."
        ),
    )
    blob_dir: Path | None = Field(
        default=None,
        description=(
            "Folder for AES-GCM sealed blobs (reference images, alert crops). Default <home>/blobs."
        ),
    )
    auto_migrate: bool = Field(
        default=True,
        description="Bring the schema to the newest revision when the server starts.",
    )
    busy_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="SQLite only: how long a writer waits for another's lock before failing.",
    )


class AuthConfig(_Strict):
    """Sessions, API tokens and lockout."""

    session_hours: float = Field(
        default=12.0, gt=0, le=168, description="A console session ends this long after login."
    )
    idle_minutes: float = Field(
        default=30.0,
        gt=0,
        le=1440,
        description="A console session ends after this long without a request.",
    )
    lockout_threshold: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Consecutive failed logins after which an account is locked.",
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, le=10080, description="How long a locked account stays locked."
    )
    cookie_secure: bool = Field(
        default=False,
        description=(
            "Send the session cookie over HTTPS only. Turn on whenever the console is served "
            "behind TLS (anything but localhost)."
        ),
    )
    argon2_time_cost: int = Field(
        default=3, ge=1, le=20, description="Argon2id iterations per password hash."
    )
    argon2_memory_kib: int = Field(
        default=65536, ge=8, le=4_194_304, description="Argon2id memory per password hash, KiB."
    )


class RetentionConfig(_Strict):
    """How long data lives (privacy invariants 2 and 3)."""

    alert_days: float = Field(
        default=31.0,
        gt=0,
        le=3650,
        description="Alerts (probe crop, score, context) are purged this long after they were "
        "raised unless on legal hold.",
    )
    closed_deployment_hours: float = Field(
        default=0.0,
        ge=0,
        le=24,
        description=(
            "Grace between closing a deployment and purging its watchlist and templates. The "
            "purge runs at the first scheduled run after it; at most 24 h by policy."
        ),
    )
    purge_interval_minutes: float = Field(
        default=15.0,
        gt=0,
        le=720,
        description="How often the server runs the purge; keep well under 24 h.",
    )
    orphan_blob_minutes: float = Field(
        default=60.0,
        gt=0,
        description="Sealed blobs no record refers to (an interrupted write) are deleted once "
        "older than this.",
    )


class MqttConfig(_Strict):
    """Alert forwarding to an MQTT broker (topic per deployment and camera)."""

    enabled: bool = Field(default=False, description="Publish every alert to MQTT.")
    host: str = Field(default="127.0.0.1", description="Broker host.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port.")
    username: str | None = Field(default=None, description="Broker user, if it needs one.")
    password: SecretStr | None = Field(default=None, description="Broker password.")
    topic_prefix: str = Field(
        default="openlfr",
        description="Alerts go to <prefix>/<deployment id>/<camera id>/alert.",
    )
    client_id: str = Field(default="openlfr-server", description="MQTT client identifier.")
    qos: int = Field(default=1, ge=0, le=2, description="MQTT quality of service for alerts.")

    @field_validator("topic_prefix")
    @classmethod
    def _no_wildcards(cls, value: str) -> str:
        if not value or any(c in value for c in "#+\x00") or value.endswith("/"):
            raise ValueError("topic prefix must be non-empty, without '#', '+' or a trailing '/'")
        return value


class NotifyConfig(_Strict):
    """Delivery of stored alerts to subscribers (MQTT, webhooks), with retries."""

    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="Time allowed for one webhook request."
    )
    retry_initial_s: float = Field(
        default=2.0, gt=0, le=3600, description="Wait before the first retry of a failed delivery."
    )
    retry_max_s: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="Longest wait between retries (the wait doubles after each failure). "
        "Deliveries are retried until they succeed or the alert is purged.",
    )
    poll_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="How often the dispatcher looks for due deliveries."
    )


DEFAULT_OFFENCE_CATEGORIES = (
    "wanted_on_warrant",
    "wanted_by_court",
    "suspect_serious_offence",
    "bail_or_court_order_breach",
    "missing_vulnerable_person",
    "risk_to_self_or_others",
)


class GovernanceConfig(_Strict):
    """Policy lists and limits the control plane enforces."""

    offence_categories: tuple[str, ...] = Field(
        default=DEFAULT_OFFENCE_CATEGORIES,
        min_length=1,
        description="Reasons a subject may be on a watchlist; anything else is refused.",
    )
    subject_default_expiry_days: float = Field(
        default=31.0,
        gt=0,
        le=3650,
        description="A subject enrolled without an expiry expires this long after enrolment.",
    )
    min_reason_chars: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Shortest accepted written reason (threshold changes, legal holds).",
    )
