"""User accounts, console sessions and API tokens: tables and their API shapes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.storage.base import Base, UTCDateTime
from openlfr.storage.fields import Omittable
from openlfr.users.roles import Role

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class User(Base):
    """An account: a person (password, maybe TOTP) or a service account (API tokens)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # The officer behind the account, as records name them ("PC 1234 J. Smith").
    rank: Mapped[str] = mapped_column(String(40), default="", server_default="")
    staff_number: Mapped[str] = mapped_column(String(20), default="", server_default="")
    role: Mapped[str] = mapped_column(String(32))
    # None for service accounts, which authenticate with API tokens only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # A service account (a worker, an integration): API tokens, never a password. Only
    # service accounts hold tokens, so nobody acts as a person without their password.
    service_account: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when someone else (an admin) set the password: the owner must choose a new
    # one before doing anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Two-factor sign-in: the TOTP secret sealed with the data key; confirmed once the
    # owner typed a right code; the last time step used, so no code works twice.
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def totp_enabled(self) -> bool:
        return self.totp_confirmed_at is not None

    @property
    def person(self) -> str:
        """Rank, collar or staff number and name, as pages and records show who acted."""
        return person_label(self.rank, self.staff_number, self.display_name)


def person_label(rank: str, staff_number: str, name: str) -> str:
    """``PC``, ``1234``, ``J. Smith`` → ``PC 1234 J. Smith`` (blank parts left out)."""
    return " ".join(part.strip() for part in (rank, staff_number, name) if part.strip())


class LoginSession(Base):
    """A console session; the cookie holds a random secret, the table only its SHA-256."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A machine credential ``olfr_<prefix>_<secret>``; only the secret's SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


def _check_username(value: str) -> str:
    if not _USERNAME.match(value):
        raise ValueError(
            "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


_RANK = Field(default="", max_length=40, description="Rank, as written (e.g. 'PC', 'Insp').")
_NUMBER = Field(
    default="",
    max_length=20,
    pattern=r"^[A-Za-z0-9/ -]*$",
    description="Collar or staff number (e.g. '1234').",
)


class UserCreate(_Schema):
    username: str = Field(description="Login name, lower case.", examples=["j.smith"])
    display_name: str = Field(
        min_length=1, max_length=200, description="The person's name (e.g. 'J. Smith')."
    )
    rank: str = _RANK
    staff_number: str = _NUMBER
    role: Role
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1024,
        description="At least 12 characters, not common or easily guessed. Omit for a "
        "service account (API tokens only).",
    )
    service_account: bool | None = Field(
        default=None,
        description="A service account (workers, integrations) has API tokens and no "
        "password; a person has a password and no tokens. Default: a service account "
        "exactly when no password is given.",
    )

    _username = field_validator("username")(_check_username)

    @model_validator(mode="after")
    def _kind(self) -> UserCreate:
        if self.service_account is None:
            self.service_account = self.password is None
        if self.service_account and self.password is not None:
            raise ValueError("a service account has no password (it uses API tokens)")
        if not self.service_account and self.password is None:
            raise ValueError("a person needs a password")
        return self


class UserUpdate(_Schema):
    """Changes to an account; absent fields keep their value (none may be null)."""

    display_name: Omittable[Annotated[str, Field(min_length=1, max_length=200)]] = None
    rank: Omittable[Annotated[str, Field(max_length=40)]] = None
    staff_number: Omittable[
        Annotated[str, Field(max_length=20, pattern=r"^[A-Za-z0-9/ -]*$")]
    ] = None
    role: Omittable[Role] = None
    active: Omittable[bool] = Field(default=None, description="False disables the account.")
    password: Omittable[Annotated[str, Field(min_length=12, max_length=1024)]] = Field(
        default=None,
        description="A new password set by an administrator: the owner must change it at "
        "the next sign-in, and every session and token of theirs ends.",
    )
    reset_totp: bool = Field(
        default=False,
        description="Forget the account's TOTP secret (a lost phone); it enrols again at the "
        "next sign-in. Ends its sessions.",
    )


class UserRead(_Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    rank: str = ""
    staff_number: str = ""
    person: str = Field(default="", description="Rank, number and name, as records show them.")
    role: Role
    active: bool
    service_account: bool
    must_change_password: bool
    totp_enabled: bool = Field(description="Signs in with a TOTP code as well.")
    created_at: datetime
    created_by: str
    last_login_at: datetime | None


class LoginRequest(_Schema):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    totp: str | None = Field(
        default=None,
        max_length=16,
        description="The 6-digit code of the authenticator app, for accounts enrolled in "
        "two-factor sign-in.",
    )


class TotpCode(_Schema):
    code: str = Field(min_length=6, max_length=16, description="A 6-digit TOTP code.")


class TotpEnrolment(_Schema):
    secret: str = Field(description="Base32 secret for the authenticator app. Shown once.")
    uri: str = Field(description="otpauth:// URI with the same secret (what the QR code holds).")
    qr_svg_data_uri: str = Field(description="The URI as a QR code (SVG data URI).")


class PasswordChange(_Schema):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class TokenCreate(_Schema):
    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    expires_days: float | None = Field(
        default=90.0, gt=0, le=3650, description="Lifetime in days; null for no expiry."
    )


class TokenRead(_Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown once; store it now.")
