"""A real HTTP stream served by ffmpeg dies mid-stream and comes back: the camera carries on."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from openlfr.alerts import CollectingSink
from openlfr.config import Settings
from openlfr.config.pipeline import SourceConfig
from openlfr.matching import rules_from_settings
from openlfr.stream import CameraPipeline, CameraState, Runner, parse_source
from openlfr.vision import ModelPack
from openlfr.watchlist import Gallery

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

PASSWORD = "pa55word-never-logged"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    """Whether a TCP socket listens on ``port`` (Linux ``/proc/net/tcp``; state 0A = LISTEN)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
                return True
    return False


class Server:
    """``ffmpeg -re`` serving a clip once over HTTP as MPEG-TS, restartable on one port."""

    def __init__(self, clip: Path) -> None:
        self.clip = clip
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://viewer:{PASSWORD}@127.0.0.1:{self.port}/live.ts"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-re",
                "-i",
                str(self.clip),
                "-c",
                "copy",
                "-f",
                "mpegts",
                "-listen",
                "1",
                f"http://127.0.0.1:{self.port}/live.ts",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Wait until it listens, without connecting: "-listen 1" serves one client only.
        if not wait_for(lambda: listening(self.port), 10.0):
            raise RuntimeError("ffmpeg did not start listening")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def server(long_synthetic_clip: Path) -> Iterator[Server]:
    srv = Server(long_synthetic_clip)
    srv.start()
    try:
        yield srv
    finally:
        srv.kill()


def wait_for(condition: Callable[[], bool], limit_s: float = 20.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_stream_reconnects_after_the_server_dies_and_returns(
    server: Server, pack: ModelPack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings()
    source_cfg = SourceConfig(read_timeout_s=2, reconnect_initial_s=0.2, reconnect_max_s=1)
    gallery = Gallery.empty(pack.recogniser.dim, pack.model_id)
    pipelines: list[CameraPipeline] = []

    def factory(camera_id: str) -> CameraPipeline:
        pipe = CameraPipeline(
            camera_id,
            pack,
            gallery,
            rules_from_settings(settings),
            settings.pipeline,
            watchlist="empty",
        )
        pipelines.append(pipe)
        return pipe

    spec = parse_source(f"street={server.url}")
    runner = Runner([spec], factory, CollectingSink(), source_cfg)
    runner.start()
    try:

        def frames() -> int:
            return runner.status()[0].counters.frames

        assert wait_for(lambda: frames() >= 20), runner.status()
        server.kill()  # dies mid-stream
        assert wait_for(lambda: runner.status()[0].state is CameraState.RECONNECTING)
        before = frames()
        server.start()
        assert wait_for(lambda: frames() >= before + 20), runner.status()
        status = runner.status()[0]
    finally:
        runner.stop()
        assert runner.wait(15)
    stats = status.source_stats
    assert stats is not None
    assert status.state is CameraState.RUNNING
    assert stats.reconnects >= 1
    assert stats.gaps and stats.gaps[0].ended_at is not None
    assert np.all(np.diff([g.started_at for g in stats.gaps]) >= 0)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in status.source and "***@127.0.0.1" in status.source
    assert any("reconnected" in r.getMessage() for r in caplog.records)
