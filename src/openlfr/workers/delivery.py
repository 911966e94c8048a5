"""Delivers spooled alerts to the hub, oldest first, one at a time, retrying with backoff."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from openlfr.workers.spool import Spool

log = logging.getLogger(__name__)

# Refusals that will not change on retry: the alert's deployment is closed or gone, or the
# alert does not fit it. Anything else (5xx, a timeout, a refused connection) is retried.
_PERMANENT = frozenset({404, 409, 422})


@dataclass(slots=True)
class DeliveryStats:
    delivered: int = 0
    duplicates: int = 0
    rejected: int = 0
    failures: int = 0
    last_error: str | None = None
    last_lag_s: float | None = None


class Deliverer:
    """A thread that empties the spool into ``POST /workers/alerts``.

    An entry is deleted only after the hub has acknowledged it (stored now, or
    stored before under the same uid), so a crash at any point re-sends it and
    the hub keeps one copy. Order is the spool's: the next alert waits until
    the one before it is stored.
    """

    def __init__(
        self,
        spool: Spool,
        client: httpx.Client,
        *,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        on_delivered: Callable[[str, float], None] | None = None,
    ) -> None:
        self._spool = spool
        self._client = client
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-delivery", daemon=True)
        self.stats = DeliveryStats()
        self._lag_observer = on_delivered

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            entry = self._spool.oldest(timeout=0.5)
            if entry is None:
                continue
            outcome = self._send(entry.alert.model_dump_json())
            if outcome is None:
                failures += 1
                self.stats.failures += 1
                delay = min(self._max_backoff_s, self._backoff_s * 2 ** min(failures, 10))
                # Jitter: many workers coming back at once do not hit the hub in step.
                self._stop.wait(delay * (0.5 + random.random() / 2))
                continue
            failures = 0
            self._spool.delete(entry.seq)
            lag = max(0.0, time.time() - entry.created)
            self.stats.last_lag_s = lag
            if self._lag_observer is not None:
                self._lag_observer(outcome, lag)
            if outcome == "stored":
                self.stats.delivered += 1
            elif outcome == "duplicate":
                self.stats.duplicates += 1
            else:
                self.stats.rejected += 1

    def _send(self, body: str) -> str | None:
        """'stored', 'duplicate' or 'rejected' once the hub has answered for good; None to retry."""
        try:
            response = self._client.post(
                "/api/v1/workers/alerts", content=body, headers={"content-type": "application/json"}
            )
        except httpx.HTTPError as exc:
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            return None
        if response.status_code == 200:
            self.stats.last_error = None
            return "duplicate" if response.json().get("duplicate") else "stored"
        if response.status_code in _PERMANENT:
            log.error("the hub refused a spooled alert for good: %s", response.text[:300])
            return "rejected"
        self.stats.last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        return None
