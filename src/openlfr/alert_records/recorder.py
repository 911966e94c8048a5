"""The database alert sink: persist first, then tell subscribers (SSE, MQTT and webhooks)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from openlfr.alert_records import service
from openlfr.alert_records.models import AlertRecord
from openlfr.alert_records.service import AlertInput
from openlfr.storage.blobs import BlobStore
from openlfr.storage.clock import Clock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.engine import Database

log = logging.getLogger(__name__)

AlertListener = Callable[[AlertRecord], None]


class AlertRecorder:
    """Stores each alert in its own transaction; listeners run only after it has committed.

    Listeners (the SSE broker, the dispatcher's wake-up) are told after the
    commit, so nobody hears of an alert that is not durably stored, and a
    listener's failure cannot lose it.
    """

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        clock: Clock,
        *,
        mqtt_enabled: bool,
        listeners: list[AlertListener] | None = None,
        episode_window: timedelta = service.DEFAULT_EPISODE_WINDOW,
    ) -> None:
        self._database = database
        self._blobs = blobs
        self._clock = clock
        self._mqtt_enabled = mqtt_enabled
        self._listeners = list(listeners or [])
        self.episode_window = episode_window

    def add_listener(self, listener: AlertListener) -> None:
        self._listeners.append(listener)

    def record(self, item: AlertInput) -> AlertRecord:
        actor = Actor.system(f"pipeline:{item.deployment_id}/{item.camera}")
        with self._database.session() as db:
            ctx = Ctx(db=db, actor=actor, now=self._clock.now(), blobs=self._blobs)
            alert = service.ingest(
                ctx, item, mqtt_enabled=self._mqtt_enabled, episode_window=self.episode_window
            )
        self.announce(alert)
        return alert

    @property
    def mqtt_enabled(self) -> bool:
        return self._mqtt_enabled

    def announce(self, alert: AlertRecord) -> None:
        """Tell the listeners of an alert that has committed."""
        for listener in self._listeners:
            try:
                listener(alert)
            except Exception:  # the alert is stored; a failed notification is retried or replayed
                log.exception("alert listener failed for alert %s", alert.id)
