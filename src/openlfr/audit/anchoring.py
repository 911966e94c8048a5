"""Publishing signed checkpoints: to the checkpoint file, MQTT and a webhook; periodically too."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from openlfr.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    SigningKey,
    append_checkpoint,
    read_checkpoints,
    take_checkpoint,
)
from openlfr.config import Settings
from openlfr.notify.mqtt import MqttPublisher
from openlfr.notify.webhook import WebhookSender
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database

log = logging.getLogger(__name__)
CHECKPOINT_EVENT = "audit.checkpoint"


def checkpoint_topic(prefix: str) -> str:
    return f"{prefix}/audit/checkpoint"


def load_or_init_signing_key(settings: Settings) -> SigningKey:
    """The checkpoint signing key; created only while no checkpoint has been published.

    Once checkpoints exist, a missing key is an error, not a reason to make a new
    one: checkpoints under a new key would not continue the old ones.
    """
    path = settings.resolved_signing_key_file
    if path.exists():
        return SigningKey.load(path)
    published = settings.checkpoint_file
    if published.is_file() and published.stat().st_size > 0:
        try:
            ids = sorted({c.key_id for c in read_checkpoints(published).checkpoints})
        except CheckpointError:
            ids = []
        raise CheckpointError(
            f"the audit signing key {path} is missing, but {published} holds checkpoints "
            f"signed by key {', '.join(ids) or '(unreadable)'}: restore the key file (or set "
            "audit.signing_key_file) rather than start a new chain of checkpoints"
        )
    key = SigningKey.generate()
    key.save(path)
    return key


@dataclass(frozen=True, slots=True)
class Published:
    checkpoint: Checkpoint
    failures: tuple[str, ...]


class CheckpointPublisher:
    """Signs the head and hands the checkpoint to every configured destination.

    The file append is the one that must succeed (it raises); MQTT and the
    webhook are best effort and their failures are logged and returned (the
    next checkpoint covers everything the missed one did).
    """

    def __init__(
        self,
        settings: Settings,
        database: Database,
        key: SigningKey,
        clock: Clock,
        *,
        mqtt: MqttPublisher | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self._settings = settings
        self._config = settings.audit
        self._database = database
        self._key = key
        self._clock = clock
        self._mqtt = mqtt if self._config.checkpoint_mqtt else None
        self._webhooks = webhooks
        self._lock = threading.Lock()
        self._last: tuple[int, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> Path:
        return self._settings.checkpoint_file

    @property
    def key(self) -> SigningKey:
        return self._key

    def publish(self, reason: str, *, only_if_changed: bool = False) -> Published | None:
        """Take, store and send one checkpoint; None if ``only_if_changed`` and nothing moved."""
        with self._lock:
            with self._database.session() as db:
                cp = take_checkpoint(db, self._key, at=self._clock.now(), reason=reason)
            if only_if_changed and self._last == (cp.seq, cp.hash):
                return None
            append_checkpoint(self.path, cp)
            self._last = (cp.seq, cp.hash)
        failures = []
        body = cp.to_json().encode()
        if self._mqtt is not None:
            topic = checkpoint_topic(self._settings.notify.mqtt.topic_prefix)
            error = self._mqtt.publish(topic, body, retain=True)
            if error:
                failures.append(f"mqtt: {error}")
        url, secret = self._config.checkpoint_webhook_url, self._config.checkpoint_webhook_secret
        if self._webhooks is not None and url is not None:
            key = b"" if secret is None else secret.get_secret_value().encode()
            error = self._webhooks.send(url, key, body, delivery_id=cp.seq, event=CHECKPOINT_EVENT)
            if error:
                failures.append(f"webhook: {error}")
        for failure in failures:
            log.warning("checkpoint of event %s not delivered: %s", cp.seq, failure)
        return Published(cp, tuple(failures))

    def publish_quietly(self, reason: str) -> None:
        """For background work: a failed checkpoint is logged, never raised."""
        try:
            self.publish(reason)
        except Exception:
            log.exception("checkpoint (%s) failed", reason)

    def start(self) -> None:
        minutes = self._config.checkpoint_interval_minutes
        if minutes <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(minutes * 60,), name="openlfr-checkpoints", daemon=True
        )
        self._thread.start()

    def _loop(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.publish("periodic", only_if_changed=True)
            except Exception:  # one failed checkpoint must not end them for good
                log.exception("periodic checkpoint failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._webhooks is not None:
            self._webhooks.close()
