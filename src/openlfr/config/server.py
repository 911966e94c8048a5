"""Settings of the control plane: database, authentication, retention, notifications, policy."""

from __future__ import annotations

from pathlib import Path

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from openlfr.users.roles import Role


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
    """Sessions, API tokens, sign-in throttling, password policy and two-factor sign-in."""

    session_hours: float = Field(
        default=12.0, gt=0, le=168, description="A console session ends this long after login."
    )
    idle_minutes: float = Field(
        default=30.0,
        gt=0,
        le=1440,
        description="A console session ends after this long without a request.",
    )
    throttle_per_address: str = Field(
        default="20/minute;100/hour;500/day",
        description="Failed sign-ins allowed from one address (any account), as moving "
        "windows in the 'limits' notation; each further attempt waits until the window "
        "has room. Ladders of windows make the wait grow with the failures.",
    )
    throttle_per_account: str = Field(
        default="5/minute;10/15 minutes;20/hour;50/day",
        description="Failed sign-ins allowed for one account from one address. There is "
        "no account-wide lockout, so nobody can lock another's account.",
    )
    throttle_storage: str = Field(
        default="memory://",
        description="Where the throttle counts ('limits' storage URI): memory:// for one "
        "server process, redis://host:6379 when several share the work.",
    )
    password_min_length: int = Field(
        default=12, ge=8, le=1024, description="Shortest accepted password."
    )
    password_min_score: int = Field(
        default=3,
        ge=0,
        le=4,
        description="Least zxcvbn strength score (0-4) a new password needs; 3 refuses "
        "common, trivial and pattern passwords and ones made of the account's names.",
    )
    totp_required_roles: tuple[str, ...] = Field(
        default=("admin", "authorising_officer", "watchlist_manager", "commander"),
        description="Roles that must sign in with a TOTP code as well as the password; "
        "others may enrol. A member who has not enrolled can do nothing but enrol.",
    )
    stream_recheck_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How often an open alert stream re-checks its credential; the stream "
        "ends within this long of logout, token revocation or disabling the account.",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description=(
            "Send the session cookie over HTTPS only. Default (unset): on, except when the "
            "server answers on a loopback address (127.0.0.1, ::1) or over plain http to "
            "localhost."
        ),
    )
    argon2_time_cost: int = Field(
        default=3, ge=1, le=20, description="Argon2id iterations per password hash."
    )
    argon2_memory_kib: int = Field(
        default=65536, ge=8, le=4_194_304, description="Argon2id memory per password hash, KiB."
    )

    @field_validator("throttle_per_address", "throttle_per_account")
    @classmethod
    def _limits(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a 'limits' rate such as '5/minute;20/hour': {exc}") from exc
        return value

    @field_validator("totp_required_roles")
    @classmethod
    def _roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - {str(r) for r in Role})
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(unknown)}")
        return value


# Six months, counted generously (the longest six calendar months have 184 days).
AUDIT_FLOOR_DAYS = 184.0


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
    audit_floor_days: float = Field(
        default=AUDIT_FLOOR_DAYS,
        gt=0,
        description="No audit event younger than this is ever purged (EU AI Act Art. 19 and "
        "26(6): logs kept at least six months). The retention run never deletes audit events "
        "at all today; this is the floor any future pruning must respect. Refused below "
        f"{AUDIT_FLOOR_DAYS:.0f} days unless audit_floor_test_mode is set.",
    )
    audit_floor_test_mode: bool = Field(
        default=False,
        description="Allow audit_floor_days under six months: for tests and development only.",
    )

    @model_validator(mode="after")
    def _audit_floor(self) -> RetentionConfig:
        if self.audit_floor_days < AUDIT_FLOOR_DAYS and not self.audit_floor_test_mode:
            raise ValueError(
                f"audit_floor_days must be at least {AUDIT_FLOOR_DAYS:.0f} (six months); "
                "lower values only with audit_floor_test_mode = true"
            )
        return self


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
    feed_poll_s: float = Field(
        default=0.5,
        ge=0.05,
        le=60,
        description="How often a hub process looks in the database for alerts, claims and "
        "decisions that other hub processes on the same database stored, so every console "
        "shows the same queue (SQLite; PostgreSQL notifies at once and this is only how "
        "often the listener checks that it should go on).",
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
    separate_authoriser: bool = Field(
        default=True,
        description="Separation of duties: a deployment cannot be authorised by anyone who "
        "planned it or edited its draft (its planner must be someone else).",
    )
    min_reason_chars: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Shortest accepted written reason (threshold changes, legal holds).",
    )
    episode_window_s: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="Alert episodes: a sighting of a subject within this many seconds of the "
        "latest undecided sighting of the same subject in the same deployment (any camera) "
        "joins that queue item instead of making a new one. 0 makes every alert its own item.",
    )
    category_priorities: dict[str, int] = Field(
        default_factory=lambda: {
            "risk_to_self_or_others": 3,
            "missing_vulnerable_person": 3,
            "wanted_on_warrant": 2,
            "bail_or_court_order_breach": 1,
        },
        description="A subject's queue priority, set from their offence category when they "
        "are enrolled (higher first when the queue is ordered by priority; absent: 0).",
    )


class AuditConfig(_Strict):
    """External anchoring of the audit log: signed checkpoints of its head, kept outside it.

    A checkpoint is the chain's newest sequence number and hash, signed with an
    Ed25519 key that never enters the database. ``openlfr audit verify
    --checkpoints FILE`` then detects a log cut short (even with its head row
    rewound to match), rewritten or emptied since a checkpoint was taken.
    """

    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs checkpoints. Defaults to "
        "<home>/keys/audit-signing.key, created when the home is first initialised. Keep it "
        "away from the database: whoever holds both could re-sign a rewritten log.",
    )
    checkpoint_file: Path | None = Field(
        default=None,
        description="JSON-lines file every checkpoint is appended to. Defaults to "
        "<home>/audit/checkpoints.jsonl; copy it (or point this) somewhere the database's "
        "administrators cannot rewrite.",
    )
    checkpoint_interval_minutes: float = Field(
        default=60.0,
        ge=0,
        le=10080,
        description="A checkpoint is taken this often while the log grows (0: only at each "
        "deployment close and on demand). A tail cut after the last checkpoint is not "
        "detectable from the checkpoints, so shorter is stronger.",
    )
    checkpoint_webhook_url: str | None = Field(
        default=None,
        description="Also POST each checkpoint (JSON, HMAC-signed like alert webhooks, event "
        "'audit.checkpoint') to this URL: an archive that others run.",
    )
    checkpoint_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC secret for checkpoint webhooks (required with the URL)."
    )
    checkpoint_mqtt: bool = Field(
        default=True,
        description="When MQTT is enabled, also publish each checkpoint, retained, to "
        "<prefix>/audit/checkpoint.",
    )

    @field_validator("checkpoint_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("checkpoint_webhook_url must be an http(s) URL")
        return value


class HttpConfig(_Strict):
    """Limits on what a request may bring, and the API documentation page.

    Bodies are refused (413) past their route's limit before they are parsed or the caller
    is authenticated, so an anonymous client cannot make the server hold a large request.
    """

    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=1_073_741_824,
        description="Largest request body of a route that takes JSON (every route but the "
        "image uploads), in bytes.",
    )
    max_upload_bytes: int = Field(
        default=64 * 1_048_576,
        ge=1024,
        le=4 * 1_073_741_824,
        description="Largest request body of a route that carries images (enrolment, a "
        "worker's alert crops and preview pictures), in bytes. Images travel base64-encoded, "
        "a third larger than the files: enrol many large photos in several requests.",
    )
    docs: bool = Field(
        default=True,
        description="Serve the interactive API documentation at /docs (Swagger UI, from this "
        "server's own copy: no third-party site is contacted). /openapi.json is always served.",
    )
