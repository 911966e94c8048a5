"""Password hashing (Argon2id) and random credentials stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openlfr.config.server import AuthConfig

TOKEN_PREFIX = "olfr"


class Passwords:
    """Argon2id hashing with the configured cost; verifying a user who does not exist
    costs the same as one who does, so timing reveals nothing about usernames."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._hasher = PasswordHasher(
            time_cost=config.argon2_time_cost, memory_cost=config.argon2_memory_kib, parallelism=1
        )
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (slow hashing adds nothing for 256-bit secrets)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> tuple[str, str, str]:
    """``(token, prefix, secret)``: the prefix finds the row, the secret proves possession."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{prefix}_{secret}", prefix, secret


def split_api_token(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
