"""End to end on a real server: users, a watchlist from real photos, an authorised deployment
on a real clip, its alert over SSE and MQTT, adjudication, closing, purge, the record."""

from __future__ import annotations

import json
import queue
import secrets
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from openlfr.api.app import create_app
from openlfr.api.testing import (
    EXAMPLES,
    PASSWORD,
    add_user,
    b64_image,
    serve_in_thread,
    test_calibration_document,
    test_settings,
)
from openlfr.config.server import MqttConfig, NotifyConfig
from openlfr.deployments.launcher import StreamLauncher
from openlfr.services import Services
from openlfr.storage.engine import Database
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

CLIP = Path("videos") / "obama_whcd_clip.mp4"


def _mqtt_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


def _session(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    r = client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


def _sse(base: str, token_cookie: httpx.Cookies, out: queue.Queue[dict[str, Any]]) -> None:
    with httpx.stream(
        "GET", f"{base}/api/v1/alerts/stream", cookies=token_cookie, timeout=120
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.put(json.loads(line[6:]))
                return


@pytest.fixture
def mqtt_messages() -> Iterator[tuple[str | None, queue.Queue[mqtt.MQTTMessage]]]:
    messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    if not _mqtt_reachable():
        yield None, messages
        return
    prefix = f"openlfr-e2e-{secrets.token_hex(4)}"
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: messages.put(m)
    client.connect("127.0.0.1", 1883)
    client.subscribe(f"{prefix}/#", qos=1)
    client.loop_start()
    yield prefix, messages
    client.loop_stop()
    client.disconnect()


def test_governed_deployment_end_to_end(
    tmp_path: Path,
    database: Database,
    pack: ModelPack,
    shared_data: Path,
    mqtt_messages: tuple[str | None, queue.Queue[mqtt.MQTTMessage]],
) -> None:
    prefix, mqtt_queue = mqtt_messages
    notify = NotifyConfig(
        mqtt=MqttConfig(enabled=prefix is not None, topic_prefix=prefix or "openlfr")
    )
    services = Services(test_settings(tmp_path / "home", database, notify=notify))
    services.__dict__["pack"] = pack
    app = create_app(services=services, launcher=StreamLauncher(services))
    photos = shared_data / EXAMPLES
    with serve_in_thread(app) as base:
        plane = app.state.plane
        add_user(plane, "admin", Role.ADMIN)  # what `openlfr user add` does
        admin = _session(base, "admin")
        for name, role in [
            ("wendy", Role.WATCHLIST_MANAGER),
            ("arthur", Role.AUTHORISING_OFFICER),
            ("olivia", Role.OPERATOR),
            ("ursula", Role.AUDITOR),
        ]:
            r = admin.post(
                "/users",
                json={
                    "username": name,
                    "display_name": name.title(),
                    "role": role,
                    "password": PASSWORD,
                },
            )
            assert r.status_code == 201, r.text
        manager, officer = _session(base, "wendy"), _session(base, "arthur")
        operator, auditor = _session(base, "olivia"), _session(base, "ursula")

        # A watchlist from real photos: the person in the clip and someone who is not.
        wl = manager.post("/watchlists", json={"name": "whcd"}).json()["id"]
        enrolled = {
            "WL-OBAMA": [f"obama_0{i}.jpg" for i in range(1, 5)],
            "WL-BIDEN": ["biden_01.jpg"],
        }
        for reference, files in enrolled.items():
            r = manager.post(
                f"/watchlists/{wl}/subjects",
                json={
                    "reference": reference,
                    "category": "wanted_on_warrant",
                    "image_source": "custody",
                    "images": [b64_image(photos / f) for f in files],
                },
            )
            assert r.status_code == 201, r.text

        # The threshold's evidence: a stored calibration of the watchlist's model.
        calibration = officer.post(
            "/calibrations", json={"document": test_calibration_document()}
        ).json()
        now = datetime.now(UTC)
        dep = manager.post(
            "/deployments",
            json={
                "name": "Dinner",
                "location": "Washington Hilton ballroom",
                "purpose": "locate people wanted on warrant",
                "legal_basis": "force LFR policy v3",
                "planned_start": (now - timedelta(minutes=1)).isoformat(),
                "planned_end": (now + timedelta(hours=2)).isoformat(),
                "watchlist_id": wl,
                "calibration_id": calibration["id"],
                "cameras": [{"name": "door", "source": str(shared_data / CLIP)}],
                # One operator decides alone here; two-person verification has its own tests.
                "two_person": False,
            },
        ).json()
        r = officer.post(f"/deployments/{dep['id']}/authorise", json={"note": "proportionate"})
        assert r.status_code == 200, r.text

        # The operator's console listens before the cameras start.
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=_sse, args=(base, operator.cookies, events), daemon=True).start()
        while plane.broker.subscribers < 1:
            threading.Event().wait(0.05)
        r = operator.post(f"/deployments/{dep['id']}/start")
        assert r.status_code == 200 and r.json()["state"] == "live"

        alert = events.get(timeout=120)
        assert alert["subject_reference"] == "WL-OBAMA" and alert["camera"] == "door"
        if prefix is not None:
            message = mqtt_queue.get(timeout=30)
            assert message.topic == f"{prefix}/{dep['id']}/door/alert"
            assert json.loads(message.payload)["id"] == alert["id"]

        crop = operator.get(alert["crop_url"].removeprefix("/api/v1"))
        assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
        r = operator.post(
            f"/alerts/{alert['id']}/adjudication",
            json={"decision": "engaged", "outcome": "advised", "notes": "identity confirmed"},
        )
        assert r.status_code == 201, r.text

        # The clip ends: the end of use is recorded by itself. Then the deployment closes.
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        while operator.get(f"/deployments/{dep['id']}").json()["state"] == "live":
            assert datetime.now(UTC) < deadline, "the clip never ended"
            threading.Event().wait(0.2)
        alerts = operator.get("/alerts", params={"deployment_id": dep["id"]}).json()["items"]
        assert alerts and {a["subject_reference"] for a in alerts} == {"WL-OBAMA"}
        r = officer.post(f"/deployments/{dep['id']}/close", json={"reason": "event over"})
        assert r.json()["state"] == "closed"
        purge = admin.post("/retention/run").json()
        images = sum(len(files) for files in enrolled.values())
        assert purge["deployments_purged"] == 1 and purge["reference_images_purged"] == images
        assert manager.get(f"/watchlists/{wl}").json()["state"] == "purged"

        assert auditor.get("/audit/verify").json()["ok"] is True
        record = auditor.get(f"/audit/deployments/{dep['id']}/record").json()
        (use,) = record["uses"]
        assert use["ended_at"] and "door ended" in use["end_reason"]
        assert use["watchlist_id"] == wl and use["watchlist_digest"]
        matched = {m["alert_id"]: m for m in record["matches"]}
        assert matched[alert["id"]]["verification"]["decided_by"] == "user:olivia"
        assert len(matched) == len(alerts)
        final = auditor.get(f"/deployments/{dep['id']}").json()
        assert final["alerts_total"] == len(alerts) and final["engaged"] == 1
