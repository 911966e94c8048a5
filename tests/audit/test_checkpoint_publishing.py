"""Checkpoints leave the database: appended to the file, POSTed signed to a webhook and published
retained on MQTT; the signing key is made once and never silently replaced."""

from __future__ import annotations

import json
import secrets
import socket
import threading
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from openlfr.audit.anchoring import (
    CHECKPOINT_EVENT,
    CheckpointPublisher,
    checkpoint_topic,
    load_or_init_signing_key,
)
from openlfr.audit.checkpoints import Checkpoint, CheckpointError, read_checkpoints
from openlfr.config import Settings
from openlfr.config.server import AuditConfig, MqttConfig, NotifyConfig
from openlfr.notify.mqtt import MqttPublisher
from openlfr.notify.webhook import EVENT_HEADER, SIGNATURE_HEADER, WebhookSender, verify_signature
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
SECRET = "checkpoint-archive-secret"


def _mqtt_unreachable() -> str | None:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=1):
            return None
    except OSError as exc:
        return f"no MQTT broker at {MQTT_HOST}:{MQTT_PORT} ({exc})"


def test_checkpoints_go_to_the_file_and_a_signed_webhook(
    tmp_path: Path, database: Database, clock: Clock
) -> None:
    received: list[httpx.Request] = []

    def archive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    settings = Settings(
        home=tmp_path / "home",
        audit=AuditConfig(
            checkpoint_webhook_url="http://archive.example/checkpoints",
            checkpoint_webhook_secret=SecretStr(SECRET),
        ),
    )
    key = load_or_init_signing_key(settings)
    sender = WebhookSender(timeout_s=5, transport=httpx.MockTransport(archive))
    publisher = CheckpointPublisher(settings, database, key, clock, webhooks=sender)
    published = publisher.publish("manual")
    assert published is not None and published.failures == ()
    assert publisher.publish("periodic", only_if_changed=True) is None  # nothing moved
    (stored,) = read_checkpoints(settings.checkpoint_file).checkpoints
    assert stored == published.checkpoint and stored.signature_valid(key.public_key)
    (request,) = received
    assert request.headers[EVENT_HEADER] == CHECKPOINT_EVENT
    assert verify_signature(SECRET.encode(), request.headers[SIGNATURE_HEADER], request.content)
    assert Checkpoint.from_dict(json.loads(request.content)) == stored
    publisher.stop()


def test_the_signing_key_is_not_replaced_once_checkpoints_exist(
    tmp_path: Path, database: Database, clock: Clock
) -> None:
    settings = Settings(home=tmp_path / "home")
    key = load_or_init_signing_key(settings)
    assert load_or_init_signing_key(settings).key_id == key.key_id
    CheckpointPublisher(settings, database, key, clock).publish("manual")
    settings.resolved_signing_key_file.unlink()
    with pytest.raises(CheckpointError, match=f"signed by key {key.key_id}"):
        load_or_init_signing_key(settings)
    settings.resolved_signing_key_file.write_text("not a key")
    with pytest.raises(CheckpointError, match="not a PEM key"):
        load_or_init_signing_key(settings)


@pytest.mark.skipif(_mqtt_unreachable() is not None, reason=str(_mqtt_unreachable()))
def test_checkpoints_are_published_retained_on_mqtt(
    tmp_path: Path, database: Database, clock: Clock
) -> None:
    prefix = f"openlfr-test-{secrets.token_hex(4)}"
    notify = NotifyConfig(mqtt=MqttConfig(enabled=True, topic_prefix=prefix, client_id=prefix))
    settings = Settings(home=tmp_path / "home", notify=notify)
    key = load_or_init_signing_key(settings)
    mqtt_out = MqttPublisher(notify.mqtt)
    publisher = CheckpointPublisher(settings, database, key, clock, mqtt=mqtt_out)
    published = publisher.publish("manual")
    assert published is not None and published.failures == ()
    # A subscriber that arrives later still gets the newest checkpoint (retained).
    got: list[bytes] = []
    arrived = threading.Event()
    listener = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    listener.on_message = lambda c, u, m: (got.append(m.payload), arrived.set())
    listener.connect(MQTT_HOST, MQTT_PORT)
    listener.subscribe(checkpoint_topic(prefix), qos=1)
    listener.loop_start()
    try:
        assert arrived.wait(10)
        assert Checkpoint.from_dict(json.loads(got[0])) == published.checkpoint
    finally:
        listener.loop_stop()
        listener.disconnect()
        # Clear the retained message so the broker does not keep test data.
        mqtt_out.publish(checkpoint_topic(prefix), b"", retain=True)
        mqtt_out.stop()
        publisher.stop()
