"""Helpers for the console's browser tests: a served app with a person per role, sign-in,
screenshots, scenario set-up through the REST API, and demo frames for a camera."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page

from openlfr.alert_records.service import AlertInput
from openlfr.api.plane import ControlPlane
from openlfr.api.testing import PASSWORD, probe_crop, test_calibration_document
from openlfr.privacy.scene import scene_thumbnail
from openlfr.storage.context import Actor
from openlfr.types import Track
from openlfr.users import service as users
from openlfr.users.models import TokenCreate, UserCreate
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "screenshots"
DOCS_IMAGES = REPO / "docs" / "images"
DEMOKIT = REPO / "src" / "openlfr" / "demokit" / "images"
DOCS_ENV = "OPENLFR_UPDATE_DOCS_IMAGES"
DOCS_MAX_BYTES = 300_000

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 1024, "height": 768}

PEOPLE: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("admin", "Sam Admin"),
    Role.AUTHORISING_OFFICER: ("supt-hale", "Supt. Jo Hale"),
    Role.COMMANDER: ("insp-reid", "Insp. Lee Reid"),
    Role.WATCHLIST_MANAGER: ("dc-khan", "DC Amir Khan"),
    Role.OPERATOR: ("pc-jones", "PC Rhian Jones"),
    Role.AUDITOR: ("auditor", "Ana Auditor"),
}
SECOND_OPERATOR = ("pc-okafor", "PC Tom Okafor")


@dataclass
class ConsoleServer:
    """A served app: its URL, control plane, and an API token per role for set-up."""

    base: str
    app: FastAPI
    plane: ControlPlane
    launcher: Any
    tokens: dict[Role, str] = field(default_factory=dict)

    def call(self, method: str, path: str, role: Role, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.request(
            method, f"{self.base}/api/v1{path}", headers=headers, timeout=120, **kwargs
        )

    def ok(self, method: str, path: str, role: Role, **kwargs: Any) -> Any:
        response = self.call(method, path, role, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


ServeConsole = Callable[..., ConsoleServer]
"""The ``serve_console`` fixture: ``serve_console(live=False, **settings_sections)``."""


def add_people(plane: ControlPlane) -> dict[Role, str]:
    """One person per role (and a second operator); returns an API token per role, held
    by a service account of that role (``<role>-setup``: people hold no tokens)."""
    tokens: dict[Role, str] = {}
    people = [(role, *who) for role, who in PEOPLE.items()]
    people.append((Role.OPERATOR, *SECOND_OPERATOR))
    with plane.work(Actor.system("test")) as ctx:
        for role, username, name in people:
            users.create(
                ctx,
                UserCreate(username=username, display_name=name, role=role, password=PASSWORD),
                plane.passwords,
            )
            if role not in tokens:
                service = users.create(
                    ctx,
                    UserCreate(
                        username=f"{role.value.replace('_', '-')}-setup",
                        display_name=f"Set-up ({role.value})",
                        role=role,
                    ),
                    plane.passwords,
                )
                _, tokens[role] = users.create_token(
                    ctx, service, TokenCreate(name="test set-up", expires_days=None)
                )
    return tokens


def new_page(browser: Browser, viewport: dict[str, int] = WIDE) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(20_000)
    page = context.new_page()
    return context, page


def sign_in(page: Page, base: str, username: str, *, next_path: str = "") -> None:
    """Sign in through the form, as a person would."""
    target = f"{base}/console/login" + (f"?next={next_path}" if next_path else "")
    page.goto(target)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/console/login" not in url)


def shoot(page: Page, name: str, *, docs: bool = False, full_page: bool = False) -> Path:
    """Screenshots at 1280×800 and 1024×768 into artifacts/; optionally the wide one into
    docs/images (only when OPENLFR_UPDATE_DOCS_IMAGES=1, and only pictures made from the
    shipped demo kit: the shared evaluation data must never reach the repository)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or WIDE
    paths = []
    for size in (WIDE, NARROW):
        page.set_viewport_size(size)
        path = ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"
        page.screenshot(path=str(path), full_page=full_page)
        paths.append(path)
    page.set_viewport_size(original)
    if docs and os.environ.get(DOCS_ENV) == "1":
        publish(paths[0], DOCS_IMAGES / f"console-{name}.png")
    return paths[0]


def publish(source: Path, target: Path) -> None:
    """Copy a screenshot for the docs, reduced to a palette PNG if it is over 300 KB."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if target.stat().st_size > DOCS_MAX_BYTES:
        from PIL import Image

        with Image.open(source) as image:
            image.convert("RGB").quantize(colors=192).save(target, optimize=True)
    assert target.stat().st_size <= DOCS_MAX_BYTES, f"{target} is too large for the docs"


def b64(path: Path) -> dict[str, str]:
    return {"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()}


def no_face_png() -> bytes:
    """A picture with no face in it: a plain gradient with a few shapes."""
    y, x = np.mgrid[0:360, 0:480]
    image = np.dstack([(x * 255 / 480), (y * 255 / 360), np.full_like(x, 140.0)]).astype(np.uint8)
    cv2.rectangle(image, (60, 60), (200, 220), (30, 60, 200), -1)
    cv2.circle(image, (340, 200), 80, (200, 200, 40), -1)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


def plan_deployment(
    server: ConsoleServer,
    *,
    name: str,
    watchlist_id: int,
    camera_source: str,
    hours: float = 4.0,
    threshold: float | None = None,
    more_cameras: dict[str, str] | None = None,
    two_person: bool = True,
) -> int:
    now = server.plane.clock.now()
    body: dict[str, Any] = {
        "name": name,
        "location": "High Street, north end",
        "purpose": "Locate people wanted on warrant",
        "legal_basis": "Common law policing powers; force LFR policy v3",
        "planned_start": (now - timedelta(minutes=1)).isoformat(),
        "planned_end": (now + timedelta(hours=hours)).isoformat(),
        "watchlist_id": watchlist_id,
        "cameras": [
            {"name": "cam-1", "source": camera_source},
            *({"name": n, "source": src} for n, src in (more_cameras or {}).items()),
        ],
        "two_person": two_person,
    }
    if threshold is not None:
        body["threshold"] = threshold
    evidence = {"document": test_calibration_document()}
    calibration = server.ok("POST", "/calibrations", Role.AUTHORISING_OFFICER, json=evidence)
    body["calibration_id"] = calibration["id"]
    return int(server.ok("POST", "/deployments", Role.WATCHLIST_MANAGER, json=body)["id"])


def enrol_watchlist(
    server: ConsoleServer,
    name: str,
    subjects: list[tuple[str, str, list[Path]]],
) -> int:
    """A watchlist with ``(reference, category, photos)`` subjects, through the API."""
    wl = int(server.ok("POST", "/watchlists", Role.WATCHLIST_MANAGER, json={"name": name})["id"])
    for reference, category, photos in subjects:
        server.ok(
            "POST",
            f"/watchlists/{wl}/subjects",
            Role.WATCHLIST_MANAGER,
            json={
                "reference": reference,
                "category": category,
                "image_source": "custody",
                "images": [b64(p) for p in photos],
            },
        )
    return wl


def demo_frames(folder: Path, *, frames: int = 24) -> Path:
    """A short scene for a camera, made from the shipped demo kit: demo subject 001 (smiling:
    a different photo from the one enrolled) among two people who are not on the watchlist."""
    folder.mkdir(parents=True, exist_ok=True)
    people = [
        DEMOKIT / "canada_003f.jpg",
        DEMOKIT / "london_001_smiling.jpg",
        DEMOKIT / "canada_095m.jpg",
    ]
    faces = []
    for path in people:
        image = cv2.imread(str(path))
        assert image is not None, path
        height = 230
        faces.append(cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height)))
    for i in range(frames):
        canvas = np.full((540, 960, 3), (92, 98, 104), np.uint8)
        canvas[380:, :] = (70, 74, 78)
        x = 70 + i * 2
        for face in faces:
            top = 150 + (i % 4)
            canvas[top : top + face.shape[0], x : x + face.shape[1]] = face
            x += face.shape[1] + 90
        cv2.imwrite(str(folder / f"frame_{i:03d}.jpg"), canvas)
    return folder


class CuttableLink:
    """A TCP relay in front of the server whose connection the test can cut and restore,
    as a van's mobile link drops (the browser's offline mode spares local connections)."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refuse = self._cut
            if refuse:
                client.close()
                continue
            try:
                server = socket.create_connection(self._upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            self._drop(source, target)

    def _drop(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with self._lock:
                self._open.discard(s)
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        """Drop every connection and refuse new ones until :meth:`restore`."""
        with self._lock:
            self._cut = True
            sockets = list(self._open)
        self._drop(*sockets)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()


def scene_of_subject(pack: ModelPack, folder: Path) -> bytes:
    """A scene thumbnail as the pipeline keeps one: a demo frame with everyone but demo
    subject 001 (the middle of three people) obscured."""
    image = cv2.imread(str(sorted(demo_frames(folder, frames=1).glob("*.jpg"))[0]))
    detections = pack.detect(image)
    middle = int(np.argsort(detections.boxes[:, 0])[len(detections) // 2])
    track = Track(1, "cam-1", detections.boxes[middle], middle, 0.9, 5, 0.0, 0.0)
    scene = scene_thumbnail(image, detections, [track], alerted_track=1)
    assert scene is not None
    return scene


class LiveScene:
    """A live deployment (fake cameras) with demo subject 001 on its watchlist."""

    def __init__(
        self,
        server: ConsoleServer,
        pack: ModelPack,
        *,
        two_person: bool = True,
        cameras: tuple[str, ...] = ("cam-1",),
        scene_folder: Path | None = None,
        people: int = 1,
    ) -> None:
        self.server = server
        listed = [
            (f"DEMO-{n:03d}", "demo", [DEMOKIT / f"london_{n:03d}_neutral.jpg"])
            for n in range(1, people + 1)
        ]
        wl = enrol_watchlist(server, "demo-queue", listed)
        subjects = server.ok("GET", f"/watchlists/{wl}/subjects", Role.OPERATOR)
        self.subject_ids = {s["reference"]: s["id"] for s in subjects}
        self.subject_id = self.subject_ids["DEMO-001"]
        self.deployment_id = plan_deployment(
            server,
            name="Queue demo",
            watchlist_id=wl,
            camera_source="/dev/null",
            more_cameras={name: "/dev/null" for name in cameras[1:]},
            two_person=two_person,
        )
        server.ok(
            "POST",
            f"/deployments/{self.deployment_id}/authorise",
            Role.AUTHORISING_OFFICER,
            json={"note": "Demonstration of the console"},
        )
        server.ok("POST", f"/deployments/{self.deployment_id}/start", Role.OPERATOR)
        deadline = time.monotonic() + 30
        while self.deployment_id not in server.launcher.sessions:
            assert time.monotonic() < deadline, "the deployment did not start"
            time.sleep(0.05)
        self.crops = {
            ref: probe_crop(pack, DEMOKIT / f"london_{ref[-3:]}_smiling.jpg")
            for ref in self.subject_ids
        }
        self.crop = self.crops["DEMO-001"]
        self.scene = None if scene_folder is None else scene_of_subject(pack, scene_folder)
        self.track = 0

    def raise_alert(
        self,
        *,
        camera: str = "cam-1",
        score: float = 0.81,
        captured_at: datetime | None = None,
        subject: str = "DEMO-001",
    ) -> None:
        """What the live pipeline does when a track matches: hand the alert to the plane."""
        self.track += 1
        session = self.server.launcher.sessions[self.deployment_id]
        session.on_alert(
            AlertInput(
                deployment_id=self.deployment_id,
                camera=camera,
                subject_id=str(self.subject_ids[subject]),
                score=score,
                track_id=str(self.track),
                captured_at=captured_at or datetime.now(UTC),
                crop=self.crops[subject],
                scene=self.scene if subject == "DEMO-001" else None,
            )
        )


def published_record(server: ConsoleServer, deployment_id: int, timeout: float = 30.0) -> Any:
    """The deployment's published record, once the close has published it (after the
    cameras' last counts arrive, in the close's background work)."""
    from openlfr.reports.record import build_record

    deadline = time.monotonic() + timeout
    while True:
        with server.plane.work(Actor.system("test")) as ctx:
            record = build_record(ctx.db, deployment_id, now=ctx.now)
        if record.published_at is not None or time.monotonic() > deadline:
            return record
        time.sleep(0.1)
