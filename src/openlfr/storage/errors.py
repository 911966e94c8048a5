"""Domain errors the services raise; the API maps each to one status code and error body."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected, explainable refusal. ``code`` is stable and machine-readable."""

    code = "error"
    # True when the work done before the refusal must still be committed: only
    # ever audit events and counters (a failed login, a refused enrolment).
    commit_anyway = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """The record does not exist (or is not visible to the caller)."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the record's current state (e.g. editing a frozen watchlist)."""

    code = "conflict"


class InvalidInput(DomainError):
    """The request is well-formed but refused by a rule; ``field`` names the culprit."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class Unauthorised(DomainError):
    """No valid credentials."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """Valid credentials without the needed permission."""

    code = "forbidden"


class TooManyAttempts(DomainError):
    """Throttled: the caller must wait ``retry_after_s`` seconds before trying again."""

    code = "too_many_attempts"
    commit_anyway = True  # the refused attempt is audited

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    """The service cannot do this now for a reason an administrator must fix (503)."""

    code = "unavailable"
