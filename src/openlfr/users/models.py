"""User accounts, console sessions and API tokens: tables and their API shapes."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.storage.base import Base, UTCDateTime
from openlfr.users.roles import Role

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    # None for machine accounts, which authenticate with API tokens only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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


class UserCreate(_Schema):
    username: str = Field(description="Login name, lower case.", examples=["j.smith"])
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1024,
        description="At least 12 characters. Omit for a machine account (API tokens only).",
    )

    _username = field_validator("username")(_check_username)


class UserUpdate(_Schema):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    active: bool | None = Field(default=None, description="False disables the account.")
    password: str | None = Field(default=None, min_length=12, max_length=1024)
    unlock: bool = Field(default=False, description="True clears a lockout.")


class UserRead(_Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    locked_until: datetime | None
    created_at: datetime
    created_by: str
    last_login_at: datetime | None


class LoginRequest(_Schema):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


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
