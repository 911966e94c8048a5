"""The alert sink interface, and a fan-out that keeps one failing sink from silencing others."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from openlfr.types import Alert

log = logging.getLogger("openlfr.alerts")


@runtime_checkable
class AlertSink(Protocol):
    """Where alerts go: a store, a console stream, a message bus, a webhook.

    ``emit`` is called from camera threads, possibly several at once, and
    should return quickly (queue slow work). ``close`` flushes and releases
    resources; no ``emit`` follows it.
    """

    def emit(self, alert: Alert) -> None:
        """Deliver one alert; raise if it could not be delivered."""

    def close(self) -> None:
        """Flush and release resources."""


class FanOut:
    """Sends every alert to each sink in order, isolating their failures.

    A sink that raises is logged (alert id and sink only: never the crop or
    the scores) and counted; the other sinks still get the alert.
    """

    def __init__(self, sinks: Iterable[AlertSink]) -> None:
        self._sinks = list(sinks)
        self._lock = threading.Lock()
        self.delivered = 0
        self.failures = 0

    def emit(self, alert: Alert) -> None:
        for sink in self._sinks:
            try:
                sink.emit(alert)
            except Exception as exc:  # one broken sink must not stop the others
                with self._lock:
                    self.failures += 1
                log.error(
                    "alert %s: sink %s failed: %s",
                    alert.alert_id,
                    type(sink).__name__,
                    type(exc).__name__,
                )
            else:
                with self._lock:
                    self.delivered += 1

    def close(self) -> None:
        for sink in self._sinks:
            try:
                sink.close()
            except Exception as exc:
                log.error("sink %s failed to close: %s", type(sink).__name__, type(exc).__name__)


class CollectingSink:
    """Keeps alerts in a list (tests, benchmarks and embedding applications)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alerts: list[Alert] = []

    def emit(self, alert: Alert) -> None:
        with self._lock:
            self.alerts.append(alert)

    def close(self) -> None:
        pass
