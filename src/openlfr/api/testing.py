"""Test support for the API: an app on a test database, users per role, a fake live pipeline.

Import the fixtures into a ``conftest.py`` next to those of
:mod:`openlfr.storage.testing`::

    from openlfr.api.testing import api, plane  # noqa: F401

The models come from the root ``pack`` fixture (loaded once per session) and
are only used by enrolment.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openlfr.alert_records.service import AlertInput
from openlfr.api.app import create_app
from openlfr.api.plane import ControlPlane
from openlfr.config import Settings
from openlfr.config.authorisation import AuthorisationConfig
from openlfr.config.server import AuthConfig, DatabaseConfig
from openlfr.deployments.live import AlertCallback, CameraLiveStatus, EndCallback, LivePlan
from openlfr.evaluation.evidence import FORMAT as EVIDENCE_FORMAT
from openlfr.services import Services
from openlfr.storage.clock import Clock
from openlfr.storage.context import Actor
from openlfr.storage.engine import Database
from openlfr.users import service as users
from openlfr.users.models import TokenCreate, UserCreate
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

PASSWORD = "correct horse battery staple"
# Cheap Argon2 so tests that create many users stay fast; production uses the defaults.
# The test client talks plain http to "testserver", so the cookie cannot be Secure; the
# tests of two-factor sign-in turn it on for their roles themselves.
FAST_AUTH = AuthConfig(
    argon2_time_cost=1, argon2_memory_kib=1024, cookie_secure=False, totp_required_roles=()
)
# Tests of other parts plan deployments without a legal record; the tests of the go-live
# requirements (tests/deployments/test_legal_authorisation.py) pass a profile themselves.
NO_LEGAL_RECORD = AuthorisationConfig(required=())


def test_settings(home: Path, database: Database, **sections: Any) -> Settings:
    """Settings for a test: its own home, the test database, cheap password hashing."""
    url = database.url.render_as_string(hide_password=False)
    values: dict[str, Any] = {
        "home": home,
        "database": DatabaseConfig(url=url, blob_dir=home / "blobs"),
        "auth": FAST_AUTH,
        "authorisation": NO_LEGAL_RECORD,
    }
    values.update(sections)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test despite its name


class FakeSession:
    """A live session that runs no cameras; the test raises alerts through it."""

    def __init__(self, plan: LivePlan, on_alert: AlertCallback, on_end: EndCallback):
        self.plan = plan
        self.threshold = plan.threshold
        self.on_alert = on_alert
        self.on_end = on_end
        self.stopped = threading.Event()

    def status(self) -> list[CameraLiveStatus]:
        state = "stopped" if self.stopped.is_set() else "running"
        return [CameraLiveStatus(name=c.name, state=state) for c in self.plan.cameras]

    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold

    def stop(self) -> None:
        self.stopped.set()


@dataclass
class FakeLauncher:
    """Records every launch; ``sessions[deployment_id]`` is the latest one."""

    sessions: dict[int, FakeSession] = field(default_factory=dict)

    def launch(self, plan: LivePlan, on_alert: AlertCallback, on_end: EndCallback) -> FakeSession:
        session = FakeSession(plan, on_alert, on_end)
        self.sessions[plan.deployment_id] = session
        return session


def test_calibration_document(
    *, model_id: str = "sface-2021dec+flip", threshold: float = 0.40, watchlist_size: int = 10_000
) -> dict[str, Any]:
    """A calibration document for tests of the evidence rule (its numbers are made up:
    it measures nothing, and says so in its dataset name)."""
    return {
        "format": EVIDENCE_FORMAT,
        "model_id": model_id,
        "pack": "sface",
        "dataset": "test fixture (no measurement)",
        "searches": {"mated": 0, "nonmated": 0},
        "created_at": "2026-12-01T00:00:00+00:00",
        "openlfr_version": "test",
        "command": "",
        "threshold": threshold,
        "rule": "point",
        "target_fpir": 0.001,
        "watchlist_size": watchlist_size,
        "measured_size": watchlist_size,
        "scaling_model": "beta-binomial",
        "resolved": True,
        "fpir": 0.001,
        "fpir_hi": 0.002,
        "tpir": 0.9,
        "tpir_lo": 0.85,
        "tpir_hi": 0.95,
        "point_threshold": threshold,
        "threshold_range": [threshold, threshold],
    }


test_calibration_document.__test__ = False  # type: ignore[attr-defined]


@dataclass
class Api:
    """A test client plus a bearer token per role (and the plane behind it).

    Each role has a person (username = the role with '-', password :data:`PASSWORD`;
    ``user_ids``) and a service account ``<person>-svc`` holding the role's token.
    """

    app: FastAPI
    client: TestClient
    plane: ControlPlane
    launcher: FakeLauncher
    tokens: dict[Role, str]
    user_ids: dict[Role, int]
    service_ids: dict[Role, int] = field(default_factory=dict)

    def headers(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, method: str, path: str, role: Role | None, **kwargs: Any) -> Any:
        return self.client.request(method, f"/api/v1{path}", headers=self.headers(role), **kwargs)

    def calibration(self, **document: Any) -> int:
        """Store a test calibration document (see :func:`test_calibration_document`); its id."""
        body = {"document": test_calibration_document(**document)}
        r = self.call("POST", "/calibrations", Role.AUTHORISING_OFFICER, json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


def add_user(
    plane: ControlPlane, username: str, role: Role, *, password: str | None = PASSWORD
) -> int:
    """A person (with ``password``) or, with ``password=None``, a service account."""
    with plane.work(Actor.system("test")) as ctx:
        user = users.create(
            ctx,
            UserCreate(username=username, display_name=username, role=role, password=password),
            plane.passwords,
        )
        return user.id


def add_token(plane: ControlPlane, user_id: int) -> str:
    with plane.work(Actor.system("test")) as ctx:
        _, token = users.create_token(
            ctx, users.get(ctx, user_id), TokenCreate(name="test", expires_days=None)
        )
        return token


def alert_input(
    deployment_id: int, camera: str, subject_id: int, crop: bytes, **kw: Any
) -> AlertInput:
    """An alert as the live pipeline would raise it."""
    values: dict[str, Any] = {
        "deployment_id": deployment_id,
        "camera": camera,
        "subject_id": str(subject_id),
        "score": 0.71,
        "track_id": "7",
        "captured_at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        "crop": crop,
    }
    values.update(kw)
    return AlertInput(**values)


def build_api(
    settings: Settings, clock: Clock, *, services: Services | None = None
) -> Iterator[Api]:
    """An app with a user and token per role; the lifespan runs, background threads do not."""
    launcher = FakeLauncher()
    app = create_app(
        services=services or Services(settings), clock=clock, launcher=launcher, background=False
    )
    plane: ControlPlane = app.state.plane
    with TestClient(app) as client:
        ids = {role: add_user(plane, role.value.replace("_", "-"), role) for role in Role}
        service_ids = {
            role: add_user(plane, role.value.replace("_", "-") + "-svc", role, password=None)
            for role in Role
        }
        tokens = {role: add_token(plane, uid) for role, uid in service_ids.items()}
        yield Api(app, client, plane, launcher, tokens, ids, service_ids)


@pytest.fixture
def api(tmp_path: Path, database: Database, clock: Clock, pack: ModelPack) -> Iterator[Api]:
    """The API on the test database, reusing the session's model pack (root ``pack`` fixture)."""
    services = Services(test_settings(tmp_path / "home", database))
    services.__dict__["pack"] = pack  # cached_property slot: models load once per session
    yield from build_api(services.settings, clock, services=services)


@contextmanager
def serve_in_thread(app: FastAPI, *, lifespan: bool = True) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free local port; yields its base URL.

    ``lifespan=False`` serves an app whose lifespan already runs (in a TestClient).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on" if lifespan else "off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("test server failed to start")
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def plane(api: Api) -> ControlPlane:
    return api.plane


EXAMPLES = Path("small") / "face_recognition_examples" / "images"


def b64_image(path: Path) -> dict[str, str]:
    """An ``ImageData`` JSON object for a photo file."""
    return {"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()}


def probe_crop(pack: ModelPack, path: Path) -> bytes:
    """The aligned face crop of the largest face in a photo, PNG-encoded (what a camera sends)."""
    from openlfr.watchlist.images import load_reference_image

    image = load_reference_image(path.read_bytes(), max_bytes=50_000_000, max_pixels=50_000_000)
    faces = pack.analyse(image)
    face = max(faces, key=lambda f: f.crop.quality.inter_eye_px)
    ok, png = cv2.imencode(".png", face.crop.image)
    assert ok
    return bytes(png.tobytes())


@dataclass(frozen=True)
class Scenario:
    """A live deployment with one enrolled subject."""

    watchlist_id: int
    subject_id: int
    deployment_id: int
    camera: str


def live_scenario(
    api: Api,
    photos: list[Path],
    *,
    reference: str = "WL-0001",
    camera_source: str = "/dev/null",
    hours: float = 8.0,
    threshold: float | None = None,
    two_person: bool = True,
) -> Scenario:
    """Watchlist with one subject (real photos) → authorised deployment → live."""
    manager, officer, operator = Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER, Role.OPERATOR
    r = api.call("POST", "/watchlists", manager, json={"name": f"wl-{reference.lower()}"})
    assert r.status_code == 201, r.text
    wl = r.json()["id"]
    r = api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        manager,
        json={
            "reference": reference,
            "category": "wanted_on_warrant",
            "image_source": "custody",
            "images": [b64_image(p) for p in photos],
        },
    )
    assert r.status_code == 201, r.text
    subject = r.json()["id"]
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        manager,  # planned by one person, authorised by another
        json={
            "name": f"deployment for {reference}",
            "location": "High Street, north end",
            "purpose": "locate people wanted on warrant",
            "legal_basis": "common law policing powers; force LFR policy v3",
            "planned_start": now.isoformat(),
            "planned_end": (now + timedelta(hours=hours)).isoformat(),
            "watchlist_id": wl,
            "calibration_id": api.calibration(),
            "cameras": [{"name": "cam-1", "source": camera_source}],
            "two_person": two_person,
            **({} if threshold is None else {"threshold": threshold}),
        },
    )
    assert r.status_code == 201, r.text
    dep = r.json()["id"]
    r = api.call("POST", f"/deployments/{dep}/authorise", officer, json={"note": "necessary"})
    assert r.status_code == 200, r.text
    r = api.call("POST", f"/deployments/{dep}/start", operator)
    assert r.status_code == 200, r.text
    return Scenario(wl, subject, dep, "cam-1")
