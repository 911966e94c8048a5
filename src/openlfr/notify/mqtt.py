"""Alert publication to an MQTT broker: topic per deployment and camera, QoS 1 by default."""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from openlfr.config.server import MqttConfig

log = logging.getLogger(__name__)


def alert_topic(config: MqttConfig, deployment_id: int, camera: str) -> str:
    return f"{config.topic_prefix}/{deployment_id}/{camera}/alert"


class MqttPublisher:
    """A long-lived connection that reconnects by itself.

    Publishing while the broker is unreachable fails at once (the outbox keeps
    the alert and retries), rather than queueing in this process's memory where
    a restart would lose it.
    """

    def __init__(self, config: MqttConfig, *, wait_s: float = 5.0) -> None:
        self._config = config
        self._wait_s = wait_s
        self._connected = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            clean_session=True,
        )
        if config.username:
            password = config.password.get_secret_value() if config.password else None
            self._client.username_pw_set(config.username, password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._started = False

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        if not getattr(rc, "is_failure", False):
            self._connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        self._connected.clear()

    def start(self) -> None:
        if self._started:
            return
        self._client.connect_async(self._config.host, self._config.port, keepalive=30)
        self._client.loop_start()
        self._started = True

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> str | None:
        """None once the broker has acknowledged (QoS ≥ 1), else why not.

        ``retain``: the broker keeps the message for later subscribers (the newest
        audit checkpoint is published so).
        """
        self.start()
        if not self._connected.wait(self._wait_s if not self._connected.is_set() else 0):
            return f"not connected to MQTT broker {self._config.host}:{self._config.port}"
        try:
            info = self._client.publish(topic, payload, qos=self._config.qos, retain=retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return f"publish failed: {mqtt.error_string(info.rc)}"
            info.wait_for_publish(timeout=self._wait_s)
        except (RuntimeError, ValueError) as exc:
            return f"publish failed: {exc}"
        return None if info.is_published() else "broker did not acknowledge in time"

    def stop(self) -> None:
        if self._started:
            self._client.disconnect()
            self._client.loop_stop()
            self._started = False
