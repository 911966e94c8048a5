"""Durable delivery: a subscriber that is down loses nothing; MQTT against a real broker."""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from openlfr.api.testing import (
    EXAMPLES,
    Api,
    alert_input,
    build_api,
    live_scenario,
    probe_crop,
    test_settings,
)
from openlfr.config.server import MqttConfig, NotifyConfig
from openlfr.notify.dispatcher import Dispatcher
from openlfr.notify.messages import AlertMessage
from openlfr.notify.mqtt import MqttPublisher
from openlfr.notify.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    WebhookSender,
    verify_signature,
)
from openlfr.services import Services
from openlfr.storage.engine import Database
from openlfr.storage.testing import ManualClock
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebhookReceiver:
    """A real HTTP endpoint that can be switched off and on."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._server: HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self, status: int = 200) -> None:
        handler = type("H", (_Receiver,), {"received": self.received, "status": status})
        self._server = HTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.down()


def _pending(api: Api) -> list[dict[str, object]]:
    page = api.call("GET", "/deliveries", Role.ADMIN, params={"pending": True}).json()
    return list(page["items"])


def test_webhook_that_is_down_gets_every_alert_when_it_returns(
    api: Api, shared_data: Path, receiver: WebhookReceiver
) -> None:
    clock = api.plane.clock
    assert isinstance(clock, ManualClock)
    photos = shared_data / EXAMPLES
    r = api.call("POST", "/subscriptions", Role.ADMIN, json={"name": "nvr", "url": receiver.url})
    assert r.status_code == 201
    secret = r.json()["secret"].encode()
    assert "secret" not in api.call("GET", "/subscriptions", Role.ADMIN).json()[0]
    s = live_scenario(api, [photos / "obama_01.jpg"])
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    dispatcher = api.plane.dispatcher
    ids = []
    for track in ("1", "2", "3"):
        alert = api.plane.recorder.record(
            alert_input(s.deployment_id, s.camera, s.subject_id, crop, track_id=track)
        )
        ids.append(alert.id)
        # Nobody listening: the first fails (refused connection); the later ones wait behind it.
        assert dispatcher.run_once() == ((0, 1) if track == "1" else (0, 0))
    pending = sorted(_pending(api), key=lambda p: int(str(p["alert_id"])))
    assert [p["alert_id"] for p in pending] == ids
    assert "ConnectError" in str(pending[0]["last_error"]) and pending[1]["attempts"] == 0
    # Answering with an error is a failure too.
    receiver.up(status=503)
    clock.advance(minutes=10)
    assert dispatcher.run_once() == (0, 1)
    receiver.down()
    assert len(_pending(api)) == 3
    # Back up: after the back-off, everything arrives, oldest first, signed.
    receiver.up()
    assert dispatcher.run_once() == (0, 0)  # still backing off
    clock.advance(minutes=10)
    assert dispatcher.run_once() == (3, 0)
    delivered = [(h, b) for h, b in receiver.received if json.loads(b)["type"] == "alert"]
    bodies = [AlertMessage.model_validate_json(b) for _, b in delivered[-3:]]
    assert [m.id for m in bodies] == ids
    for headers, body in delivered[-3:]:
        assert verify_signature(secret, headers[SIGNATURE_HEADER], body)
        assert headers[DELIVERY_HEADER].isdigit()
    # Metadata only: the crop is fetched (and audited) through the API.
    assert set(json.loads(delivered[-1][1])) == set(AlertMessage.model_fields)
    assert _pending(api) == []
    assert dispatcher.run_once() == (0, 0)  # nothing is sent twice


def _mqtt_unreachable() -> str | None:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=1):
            return None
    except OSError as exc:
        return f"no MQTT broker at {MQTT_HOST}:{MQTT_PORT} ({exc})"


@pytest.mark.skipif(_mqtt_unreachable() is not None, reason=str(_mqtt_unreachable()))
def test_mqtt_delivery_survives_a_broker_outage(
    tmp_path: Path, database: Database, clock: ManualClock, pack: ModelPack, shared_data: Path
) -> None:
    prefix = f"openlfr-test-{secrets.token_hex(4)}"
    notify = NotifyConfig(mqtt=MqttConfig(enabled=True, topic_prefix=prefix, client_id=prefix))
    settings = test_settings(tmp_path / "home", database, notify=notify)
    services = Services(settings)
    services.__dict__["pack"] = pack
    photos = shared_data / EXAMPLES
    got: list[mqtt.MQTTMessage] = []
    arrived = threading.Event()
    listener = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    listener.on_message = lambda c, u, m: (got.append(m), arrived.set())
    listener.connect(MQTT_HOST, MQTT_PORT)
    listener.subscribe(f"{prefix}/#", qos=1)
    listener.loop_start()
    try:
        for api in build_api(settings, clock, services=services):
            s = live_scenario(api, [photos / "obama_01.jpg"])
            crop = probe_crop(pack, photos / "obama_02.jpg")
            alert = api.plane.recorder.record(
                alert_input(s.deployment_id, s.camera, s.subject_id, crop)
            )
            # The broker is unreachable for this server: the alert waits in the outbox.
            offline = MqttPublisher(
                notify.mqtt.model_copy(update={"port": _free_port()}), wait_s=0.5
            )
            plane = api.plane
            down = Dispatcher(
                plane.database,
                plane.blobs,
                clock,
                notify,
                webhooks=WebhookSender(timeout_s=1),
                mqtt=offline,
            )
            assert down.run_once() == (0, 1)
            down.stop()
            (pending,) = _pending(api)
            assert pending["channel"] == "mqtt" and "not connected" in str(pending["last_error"])
            # The broker is back (the server's own publisher reaches it): delivered.
            clock.advance(minutes=5)
            assert plane.dispatcher.run_once() == (1, 0)
            assert arrived.wait(10)
            (message,) = got
            assert message.topic == f"{prefix}/{s.deployment_id}/{s.camera}/alert"
            assert AlertMessage.model_validate_json(message.payload).id == alert.id
            assert _pending(api) == []
            plane.dispatcher.stop()
    finally:
        listener.loop_stop()
        listener.disconnect()
