"""Runs ``openlfr demo --headless --json`` as a real process and reads what it prints."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "screenshots"
DOCS_IMAGES = REPO / "docs" / "images"
DOCS_ENV = "OPENLFR_UPDATE_DOCS_IMAGES"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DemoProcess:
    """One ``openlfr demo`` run, offline: no shared evaluation data, its own folders."""

    def __init__(self, home: Path, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            OPENLFR_HOME=str(home.parent / "openlfr-home"),
            OPENLFR_CONFIG=str(home.parent / "no-config.toml"),
            OPENLFR_SHARED_DATA=str(home.parent / "no-shared-data"),
        )
        env.pop("OPENLFR_DATA_KEY", None)
        self.stderr_path = home.parent / f"demo-{self.port}.stderr"
        self._stderr = self.stderr_path.open("wb")
        command = [sys.executable, "-m", "openlfr", "demo", "--headless", "--json"]
        command += ["--port", str(self.port), "--home", str(home), *extra]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._stderr, env=env, cwd=REPO
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._read_all = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self.events.put(json.loads(line))
        finally:
            self._read_all.set()  # the process closed its output

    def next_event(self, kind: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._read_all.is_set() and self.events.empty()):
                raise AssertionError(f"no {kind!r} event; stderr:\n{self.stderr_text()}")
            try:
                event = self.events.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if event["event"] == kind:
                return event

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a person would; the exit status."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._stderr.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._stderr.close()

    def stderr_text(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def session(self, username: str, password: str, key: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=30)
        body = {"username": username, "password": password}
        if key is not None:
            body["totp"] = next_code(key)
        r = client.post("/api/v1/auth/login", json=body)
        assert r.status_code == 200, r.text
        return client


def password(ready: dict[str, Any], username: str) -> str:
    return str(next(a["password"] for a in ready["accounts"] if a["username"] == username))


def totp_key(ready: dict[str, Any], username: str) -> str | None:
    key = next(a.get("totp_key") for a in ready["accounts"] if a["username"] == username)
    return None if key is None else str(key)


_LAST_STEP: dict[str, int] = {}


def next_code(key: str) -> str:
    """A code the server has not seen yet: each code works once, so a second sign-in in
    the same 30 s uses the next step's code (accepted one step early), or waits for it."""
    totp = pyotp.TOTP(key)
    while True:
        step = totp.timecode(datetime.now(UTC))
        candidate = max(step, _LAST_STEP.get(key, -1) + 1)
        if candidate <= step + 1:
            _LAST_STEP[key] = candidate
            return totp.generate_otp(candidate)
        time.sleep(1.0)  # the server accepts no code further ahead


def wait_for_alert(client: httpx.Client, deployment_id: int, timeout: float) -> dict[str, Any]:
    """The first stored alert of the deployment, read through the API as the operator."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/api/v1/alerts", params={"deployment_id": deployment_id, "limit": 50})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        if items:
            return dict(items[-1])
        time.sleep(0.5)
    raise AssertionError(f"no alert within {timeout} s")


def publish(source: Path, target: Path, max_bytes: int = 300_000) -> None:
    """Copy a screenshot into the docs (palette PNG if large); only pictures of the demo kit."""
    import shutil

    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if target.stat().st_size > max_bytes:
        with Image.open(source) as image:
            image.convert("RGB").quantize(colors=192).save(target, optimize=True)
