"""The outbox dispatcher: a background thread that delivers stored alerts until they arrive."""

from __future__ import annotations

import logging
import threading

from openlfr.config.server import NotifyConfig
from openlfr.notify import service
from openlfr.notify.messages import AlertMessage
from openlfr.notify.models import Channel
from openlfr.notify.mqtt import MqttPublisher, alert_topic
from openlfr.notify.webhook import WebhookSender
from openlfr.storage.blobs import BlobStore
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database

log = logging.getLogger(__name__)


class Dispatcher:
    """Reads due deliveries, sends each without holding a transaction, records the outcome.

    A subscriber that is down only delays its own deliveries: each failure
    pushes that delivery's next attempt back (doubling, capped), and it is
    retried until it succeeds or retention purges the alert.
    """

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        clock: Clock,
        config: NotifyConfig,
        *,
        webhooks: WebhookSender,
        mqtt: MqttPublisher | None,
    ) -> None:
        self._database = database
        self._blobs = blobs
        self._clock = clock
        self._config = config
        self._webhooks = webhooks
        self._mqtt = mqtt
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run_once(self) -> tuple[int, int]:
        """Attempt every due delivery once; returns ``(delivered, failed)``."""
        with self._lock:  # one pass at a time, whether from the thread or a caller
            with self._database.session() as db:
                batch = service.due(db, self._blobs, now=self._clock.now())
            delivered = failed = 0
            outcomes: list[tuple[int, str | None]] = []
            down: set[tuple[Channel, str | None]] = set()
            for item in batch:
                # A destination that just failed is not tried again in this pass: its
                # later alerts wait behind the failed one (order is kept) instead of
                # each costing a timeout.
                destination = (item.channel, item.url)
                if destination in down:
                    continue
                body = AlertMessage.of(item.alert).model_dump_json().encode()
                error = self._send(item, body)
                outcomes.append((item.delivery_id, error))
                if error is None:
                    delivered += 1
                else:
                    failed += 1
                    down.add(destination)
                    log.warning(
                        "delivery %s (%s) failed: %s", item.delivery_id, item.channel, error
                    )
            if outcomes:
                with self._database.session() as db:
                    now = self._clock.now()
                    for delivery_id, error in outcomes:
                        service.record_outcome(
                            db,
                            delivery_id,
                            now=now,
                            error=error,
                            retry_initial_s=self._config.retry_initial_s,
                            retry_max_s=self._config.retry_max_s,
                        )
            return delivered, failed

    def _send(self, item: service.DueDelivery, body: bytes) -> str | None:
        if item.channel == Channel.MQTT:
            if self._mqtt is None:
                return "MQTT is not enabled in this server's configuration"
            topic = alert_topic(self._config.mqtt, item.alert.deployment_id, item.alert.camera)
            return self._mqtt.publish(topic, body)
        if item.url is None or item.secret is None:
            return "subscription removed"
        return self._webhooks.send(item.url, item.secret, body, delivery_id=item.delivery_id)

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after an alert commits)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        if self._mqtt is not None:
            self._mqtt.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="openlfr-dispatcher", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bad pass must not end delivery for good
                log.exception("alert dispatch pass failed")
            self._wake.wait(self._config.poll_interval_s)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._mqtt is not None:
            self._mqtt.stop()
        self._webhooks.close()
