"""A real hub process (``openlfr serve`` and its local worker) on a prepared SQLite home."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
from fastapi.testclient import TestClient

from openlfr.api.app import create_app
from openlfr.api.testing import (
    EXAMPLES,
    NO_LEGAL_RECORD,
    Api,
    FakeLauncher,
    add_token,
    add_user,
    b64_image,
)
from openlfr.config import Settings
from openlfr.services import Services
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

CLIP = Path("videos") / "obama_whcd_clip.mp4"
# The clip loops in real time; with no cooldown every pass that makes a new track alerts,
# so a run keeps raising alerts for as long as it lasts.
LIVE_ENV = {
    "OPENLFR_PIPELINE__SOURCE__REALTIME": "true",
    "OPENLFR_PIPELINE__SOURCE__LOOP": "true",
    "OPENLFR_PIPELINE__DECISION__COOLDOWN_S": "0",
    # As test_settings: these tests run deployments without a legal record.
    "OPENLFR_AUTHORISATION__REQUIRED": "[]",
}


def gapped_clip(
    source: Path,
    out: Path,
    *,
    gap_s: float = 1.6,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Path:
    """The real clip followed by a moment of empty picture, so each loop starts a new track
    (the tracker forgets a face after ``lost_ttl_s``) and, with no cooldown, a new alert."""
    capture = cv2.VideoCapture(str(source))
    fps = fps or capture.get(cv2.CAP_PROP_FPS) or 15.0
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame if size is None else cv2.resize(frame, size))
    capture.release()
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for frame in frames:
        writer.write(frame)
    for _ in range(int(gap_s * fps)):
        writer.write(np.zeros_like(frames[0]))
    writer.release()
    return out


@dataclass(frozen=True)
class Prepared:
    home: Path
    deployment_id: int
    tokens: dict[Role, str]


def prepare(
    home: Path,
    pack: ModelPack,
    shared_data: Path,
    *,
    cameras: int = 1,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    **settings: Any,
) -> Prepared:
    """Accounts, a watchlist with Obama's photos and an authorised deployment on the clip
    (``cameras`` copies of it, scaled to ``size`` and paced at ``fps`` if given)."""
    settings.setdefault("authorisation", NO_LEGAL_RECORD)
    services = Services(Settings(home=home, **settings))
    services.__dict__["pack"] = pack
    launcher = FakeLauncher()
    app = create_app(services=services, launcher=launcher, background=False)
    plane = app.state.plane
    with TestClient(app) as client:
        ids = {role: add_user(plane, role.value.replace("_", "-"), role) for role in Role}
        # People hold no tokens: each role's token belongs to a service account.
        service_ids = {
            role: add_user(plane, role.value.replace("_", "-") + "-svc", role, password=None)
            for role in Role
        }
        tokens = {role: add_token(plane, uid) for role, uid in service_ids.items()}
        api = Api(app, client, plane, launcher, tokens, ids, service_ids)
        photos = shared_data / EXAMPLES
        home.mkdir(parents=True, exist_ok=True)
        clip = gapped_clip(
            shared_data / CLIP, home.parent / "obama-looping.mp4", size=size, fps=fps
        )
        deployment_id = _authorised_deployment(
            api, [photos / f"obama_0{i}.jpg" for i in range(1, 5)], str(clip), cameras
        )
    # The hub process starts it.
    services.database.dispose()
    return Prepared(home, deployment_id, tokens)


def _authorised_deployment(api: Api, photos: list[Path], source: str, cameras: int) -> int:
    """A watchlist of one subject and an authorised deployment with ``cameras`` cameras."""
    r = api.call("POST", "/watchlists", Role.WATCHLIST_MANAGER, json={"name": "wl-live"})
    assert r.status_code == 201, r.text
    wl = r.json()["id"]
    r = api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        Role.WATCHLIST_MANAGER,
        json={
            "reference": "WL-0001",
            "category": "wanted_on_warrant",
            "image_source": "custody",
            "images": [b64_image(p) for p in photos],
        },
    )
    assert r.status_code == 201, r.text
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        Role.WATCHLIST_MANAGER,
        json={
            "name": "live workers",
            "location": "High Street, north end",
            "purpose": "locate people wanted on warrant",
            "legal_basis": "common law policing powers; force LFR policy v3",
            "planned_start": now.isoformat(),
            "planned_end": (now + timedelta(hours=8)).isoformat(),
            "watchlist_id": wl,
            "calibration_id": api.calibration(),
            "cameras": [{"name": f"cam-{i}", "source": source} for i in range(1, cameras + 1)],
        },
    )
    assert r.status_code == 201, r.text
    dep = int(r.json()["id"])
    r = api.call(
        "POST", f"/deployments/{dep}/authorise", Role.AUTHORISING_OFFICER, json={"note": "ok"}
    )
    assert r.status_code == 200, r.text
    return dep


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HubProcess:
    """``python -m openlfr serve`` as a child process, with its supervised local workers."""

    def __init__(self, prepared: Prepared, *, env: dict[str, str] | None = None, workers: int = 1):
        self.prepared = prepared
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._env = {**os.environ, "OPENLFR_HOME": str(prepared.home), **LIVE_ENV, **(env or {})}
        self._workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.log = prepared.home.parent / f"hub-{self.port}.log"

    def __enter__(self) -> HubProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openlfr",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self._workers),
                "--log-level",
                "warning",
            ],
            env=self._env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: self._healthy(), 120, "the hub never answered", self)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the hub exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Whatever the hub left (its workers) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def call(self, method: str, path: str, role: Role, **kw: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.prepared.tokens[role]}"}
        return httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=60, **kw)

    def workers(self) -> list[dict[str, Any]]:
        r = self.call("GET", "/workers", Role.AUDITOR)
        assert r.status_code == 200, r.text
        return list(r.json())

    def start_deployment(self) -> None:
        r = self.call("POST", f"/deployments/{self.prepared.deployment_id}/start", Role.OPERATOR)
        assert r.status_code == 200, r.text

    def stop_deployment(self) -> None:
        r = self.call(
            "POST",
            f"/deployments/{self.prepared.deployment_id}/stop",
            Role.OPERATOR,
            json={"reason": "end of the test run"},
        )
        assert r.status_code == 200, r.text


def wait_for(
    check: Callable[[], Any], timeout: float, what: str, hub: HubProcess | None = None
) -> Any:
    """Poll ``check`` until it returns something truthy (events here are other processes')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    tail = hub.log.read_text()[-4000:] if hub is not None and hub.log.exists() else ""
    raise AssertionError(f"{what} within {timeout} s\n{tail}")


def stored_alerts(db_file: Path, deployment_id: int) -> list[tuple[int, str, str]]:
    """(id, uid, captured_at) of the deployment's stored alerts, in the order stored."""
    with sqlite3.connect(db_file, timeout=60) as db:
        return db.execute(
            "SELECT id, uid, captured_at FROM alerts WHERE deployment_id = ? ORDER BY id",
            (deployment_id,),
        ).fetchall()


def spooled(hub: HubProcess, worker: str = "local-1") -> int:
    """Alerts the worker has ever spooled, read from its spool file: the worker's own count,
    which does not depend on the hub answering."""
    path = hub.prepared.home / "worker" / worker / "spool.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        row = db.execute("SELECT value FROM counts WHERE name = 'accepted'").fetchone()
    return int(row[0]) if row else 0


def waiting(hub: HubProcess, worker: str = "local-1") -> int:
    """Alerts in the worker's spool now (sealed: only their number is readable)."""
    path = hub.prepared.home / "worker" / worker / "spool.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("SELECT COUNT(*) FROM spool").fetchone()[0])


def the_worker(hub: HubProcess) -> dict[str, Any] | None:
    """The one local worker's last heartbeat, once it has sent one (None while the hub
    cannot answer: a busy or full database fails even a read's token check)."""
    r = hub.call("GET", "/workers", Role.AUDITOR)
    if r.status_code != 200:
        return None
    workers = r.json()
    return workers[0]["heartbeat"] if workers else None


def camera_state(hub: HubProcess) -> str | None:
    beat = the_worker(hub)
    if not beat or not beat["cameras"]:
        return None
    return str(beat["cameras"][0]["state"])


def drained(hub: HubProcess) -> dict[str, Any]:
    """Stop the deployment, then wait until the worker's spool is empty; its last heartbeat."""
    hub.stop_deployment()

    def empty() -> dict[str, Any] | None:
        beat = the_worker(hub)
        if beat and not beat["cameras"] and beat["spool_depth"] == 0:
            return beat
        return None

    return dict(wait_for(empty, 300, "the spool emptied after the stop", hub))


def assert_none_lost_in_order(hub: HubProcess, db_file: Path) -> tuple[int, dict[str, Any]]:
    """Every alert the worker spooled is stored exactly once, in capture order."""
    beat = drained(hub)
    rows = stored_alerts(db_file, hub.prepared.deployment_id)
    assert beat["spool_refused"] == 0
    assert len(rows) == beat["spool_accepted"], (len(rows), beat)  # 0 lost, 0 duplicates
    assert len({uid for _, uid, _ in rows}) == len(rows)
    captured = [c for _, _, c in rows]
    assert captured == sorted(captured), "alerts arrived out of order"
    return len(rows), beat
