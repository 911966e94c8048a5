"""The password policy: long enough, and not common, trivial or made of the account's names."""

from __future__ import annotations

from zxcvbn import zxcvbn

from openlfr.config.server import AuthConfig
from openlfr.storage.errors import InvalidInput

# zxcvbn's cost grows with length; the first characters decide whether a password is weak.
_CHECKED_CHARS = 100


def check_password(
    password: str, config: AuthConfig, *, user_inputs: tuple[str, ...] = (), field: str
) -> None:
    """Refuse a weak password with zxcvbn's explanation (:class:`InvalidInput` on ``field``).

    zxcvbn scores 0-4 from dictionaries of common passwords, names, words, keyboard
    patterns, repeats and dates; the account's own username and display name count
    as dictionary words too.
    """
    if len(password) < config.password_min_length:
        raise InvalidInput(
            f"use at least {config.password_min_length} characters", field=field, code="weak"
        )
    if not password.strip():
        raise InvalidInput("a password cannot be only spaces", field=field, code="weak")
    result = zxcvbn(password[:_CHECKED_CHARS], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) < config.password_min_score:
        feedback = result.get("feedback") or {}
        why = feedback.get("warning") or "it is too easy to guess"
        tips = " ".join(feedback.get("suggestions") or [])
        raise InvalidInput(
            f"password refused: {why.rstrip('.')}. {tips}".strip(), field=field, code="weak"
        )
