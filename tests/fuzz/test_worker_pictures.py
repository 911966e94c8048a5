"""The crafted and damaged images through the routes a worker sends pictures on: a clear 422."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from image_corpus import CORPUS, _face_jpeg

from openlfr.api.app import create_app
from openlfr.api.testing import Api, add_token, add_user, test_settings
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.storage.engine import Database
from openlfr.storage.testing import ManualClock
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.workers.hub import WorkerHub


@pytest.fixture(scope="module")
def worker_hub(tmp_path_factory: pytest.TempPathFactory, pack: ModelPack) -> Iterator[Api]:
    """A hub whose deployments go to workers, with a worker's token; one per module."""
    home = tmp_path_factory.mktemp("worker-pictures")
    database = Database(f"sqlite:///{home / 'openlfr.db'}")
    migrate.upgrade(database)
    services = Services(test_settings(home, database))
    services.__dict__["pack"] = pack  # cached_property slot: models load once per session
    hub = WorkerHub()
    app = create_app(services=services, clock=ManualClock(), launcher=hub, background=False)
    try:
        with TestClient(app) as client:
            plane = app.state.plane
            worker = add_user(plane, "worker-svc", Role.WORKER, password=None)
            tokens = {Role.WORKER: add_token(plane, worker)}
            yield Api(app, client, plane, hub, tokens, {})  # type: ignore[arg-type]
    finally:
        database.dispose()


def _delivery(crop: bytes) -> dict[str, Any]:
    return {
        "uid": uuid.uuid4().hex,
        "deployment_id": 1,
        "camera": "cam-1",
        "subject_id": "s-1",
        "score": 0.9,
        "track_id": "t-1",
        "captured_at": datetime.now(UTC).isoformat(),
        "crop": base64.b64encode(crop).decode(),
    }


def _assert_refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["code"] == "image_rejected"
    assert error["message"].startswith("the picture is refused: ")
    assert [f["field"] for f in error["fields"]] == [f"body.{field}"]


# Odd but well-formed files of the formats a worker sends (crops: PNG or JPEG; previews:
# JPEG): they decode, so they pass the picture check and meet the route's next rule (an
# alert for a deployment that does not exist: 404).
WELL_FORMED_JPEG = {"cmyk.jpg", "bad-exif.jpg"}
WELL_FORMED_CROP = WELL_FORMED_JPEG | {
    "idat-bomb.png",  # its extra data is never read: 64×64 pixels decode
    "one-pixel.png",
    "sixteen-bit.png",
    "sliver.png",
    "wide-sliver.png",
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_crafted_alert_crop_is_refused_clearly(worker_hub: Api, name: str) -> None:
    r = worker_hub.call("POST", "/workers/alerts", Role.WORKER, json=_delivery(CORPUS[name]()))
    if name in WELL_FORMED_CROP:
        assert r.status_code == 404, r.text
    else:
        _assert_refused(r, "crop")


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_crafted_preview_is_refused_clearly(worker_hub: Api, name: str) -> None:
    r = worker_hub.call("PUT", "/workers/preview/1/cam-1", Role.WORKER, content=CORPUS[name]())
    if name in WELL_FORMED_JPEG:
        assert r.status_code == 204, r.text
    else:
        _assert_refused(r, "body")


def test_a_real_crop_passes_the_picture_check(worker_hub: Api) -> None:
    """The check refuses what is damaged, not pictures: a real face reaches the next rule
    (here: the deployment does not exist)."""
    r = worker_hub.call("POST", "/workers/alerts", Role.WORKER, json=_delivery(_face_jpeg()))
    assert r.status_code == 404, r.text
    r = worker_hub.call("PUT", "/workers/preview/1/cam-1", Role.WORKER, content=_face_jpeg())
    assert r.status_code == 204, r.text
