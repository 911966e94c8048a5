"""``openlfr run``: JSON lines on stdout, isolated cameras, clean shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openlfr.cli import app
from openlfr.cli.common import work
from openlfr.config import Settings
from openlfr.services import Services
from openlfr.vision import ModelPack
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import WatchlistCreate


def empty_watchlist(pack: ModelPack, name: str = "empty") -> None:
    """An empty watchlist in the database of the test's home, as the server makes one."""
    with work(Services(Settings())) as ctx:
        watchlists.create(
            ctx, WatchlistCreate(name=name), model_id=pack.model_id, dim=pack.recogniser.dim
        )


def _opens(proc: subprocess.Popen[bytes], path: Path, *, timeout_s: float) -> bool:
    """Wait until ``proc`` holds ``path`` open (read from /proc), or it ends, or time runs out."""
    deadline = time.monotonic() + timeout_s
    fds = Path(f"/proc/{proc.pid}/fd")
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir()):
                return True
        except OSError:
            pass  # a descriptor closed while it was read
        time.sleep(0.05)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_failing_camera_does_not_stop_the_others(synthetic_clip: Path, pack: ModelPack) -> None:
    empty_watchlist(pack)
    dead = f"dead=http://127.0.0.1:{free_port()}/none.ts"
    result = CliRunner().invoke(
        app, ["run", "-w", "empty", "-s", str(synthetic_clip), "-s", dead, "--json", "-q"]
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # no alerts: nothing at all on stdout
    assert "numbers" in result.stderr and "ended; frames 50" in result.stderr
    assert "dead" in result.stderr and "failed" in result.stderr


def test_unknown_watchlist_and_bad_source_are_refused(synthetic_clip: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["run", "-w", "nope", "-s", str(synthetic_clip)])
    assert missing.exit_code == 1
    bad = runner.invoke(app, ["run", "-w", "nope", "-s", "/no/such/clip.mp4"])
    assert bad.exit_code == 2 and "no such file" in bad.stderr


def test_sigterm_stops_a_live_run_cleanly(synthetic_clip: Path, pack: ModelPack) -> None:
    empty_watchlist(pack)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from openlfr.cli import main; main()",
            "run",
            "-w",
            "empty",
            "-s",
            f"loopcam={synthetic_clip}",
            "--realtime",
            "--loop",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        # Models load and the database opens; once the camera has its clip open the run
        # has its signal handlers, and the looping camera runs until told to stop.
        assert _opens(proc, synthetic_clip, timeout_s=180), "the camera never started"
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out == b""
    assert b"SIGTERM: stopping" in err and b"loopcam" in err and b"stopped" in err


@pytest.mark.realdata
def test_json_mode_prints_one_object_per_alert(shared_data: Path, clips: Path) -> None:
    runner = CliRunner()
    stills = shared_data / "small/face_recognition_examples/images"
    obama = ["obama_01.jpg", "obama_02.jpg", "obama_03.jpg", "obama_04.jpg"]
    for subject, images in [("obama", obama), ("biden", ["biden_01.jpg"])]:
        paths = [str(stills / image) for image in images]
        enrolled = runner.invoke(
            app, ["enrol", *paths, "-w", "wl", "-s", subject, "-c", "wanted_on_warrant"]
        )
        assert enrolled.exit_code == 0, enrolled.output
    result = runner.invoke(
        app, ["run", "-w", "wl", "-s", str(clips / "obama_whcd_clip.mp4"), "--json", "-q"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["subject"] == "obama" and record["camera"] == "obama_whcd_clip"
    assert {"score", "time", "track"} <= record.keys()


def test_processes_mode_runs_each_camera_in_its_own_process(
    synthetic_clip: Path, pack: ModelPack
) -> None:
    empty_watchlist(pack)
    dead = f"dead=http://127.0.0.1:{free_port()}/none.ts"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from openlfr.cli import main; main()",
            "run",
            "-w",
            "empty",
            "-s",
            f"a={synthetic_clip}",
            "-s",
            dead,
            "--processes",
            "--json",
        ],
        capture_output=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1  # the dead camera failed, in its own process
    assert proc.stdout == b""
    assert b"a (" in proc.stderr and b"ended; frames 50" in proc.stderr
    assert b"dead (" in proc.stderr and b"failed" in proc.stderr
