"""Sign-in throttling per address and per account-from-address, with growing delays (limits)."""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from openlfr.config.server import AuthConfig


class LoginThrottle:
    """Counts failed sign-ins and says how long the next attempt must wait.

    Failures count against two keys: the address (whatever account it tries) and the
    account *from that address*. Each key has a ladder of moving windows (``5/minute``,
    ``10/15 minutes``, ...), so the wait grows as failures pile up. No key is the
    account alone, so nobody can lock another's account by failing on purpose: the
    owner signing in from elsewhere is never held up. A success clears its account key.
    """

    def __init__(self, config: AuthConfig) -> None:
        self._storage = storage_from_string(config.throttle_storage)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._per_address = parse_many(config.throttle_per_address)
        self._per_account = parse_many(config.throttle_per_account)
        # One caller at a time: a flood of concurrent sign-ins must not pile up inside the
        # storage's own locks (the counts are tiny; serialising them costs nothing).
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        account = username.strip().lower()[:64]
        return [(item, ("login-address", address)) for item in self._per_address] + [
            (item, ("login-account", account, address)) for item in self._per_account
        ]

    def wait_s(self, username: str, address: str) -> float:
        """Seconds before the next attempt may be checked (0: go ahead)."""
        wait = 0.0
        with self._lock:
            for item, ids in self._keys(username, address):
                if not self._limiter.test(item, *ids):
                    reset = self._limiter.get_window_stats(item, *ids).reset_time
                    wait = max(wait, reset - time.time(), 1.0)
        return float(math.ceil(wait))

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            for item, ids in self._keys(username, address):
                self._limiter.hit(item, *ids)

    def succeeded(self, username: str, address: str) -> None:
        account = username.strip().lower()[:64]
        with self._lock:
            for item in self._per_account:
                self._limiter.clear(item, "login-account", account, address)
