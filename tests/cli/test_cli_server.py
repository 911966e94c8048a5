"""The control plane's commands: db upgrade, user add, purge, audit verify, serve."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from openlfr.cli import app

runner = CliRunner()
OPENLFR = str(Path(sys.executable).parent / "openlfr")


def test_db_upgrade_creates_the_embedded_database(isolated_home: Path) -> None:
    r = runner.invoke(app, ["db", "upgrade", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["from"] is None and out["to"]
    assert (isolated_home / "openlfr.db").is_file()
    again = json.loads(runner.invoke(app, ["db", "upgrade", "--json"]).stdout)
    assert again["from"] == again["to"] == out["to"]


def test_user_add_then_audit_verify_and_purge(isolated_home: Path) -> None:
    r = runner.invoke(
        app,
        ["user", "add", "chief", "--role", "admin", "--password-stdin", "--json"],
        input="a long enough passphrase\n",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["role"] == "admin"
    dup = runner.invoke(
        app,
        ["user", "add", "chief", "--role", "auditor", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert dup.exit_code == 1 and "taken" in dup.output
    short = runner.invoke(
        app, ["user", "add", "bob", "--role", "auditor", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1 and "password" in short.output
    assert runner.invoke(app, ["user", "add", "eve", "--role", "king"]).exit_code == 2
    machine = runner.invoke(app, ["user", "add", "van-1", "--role", "operator", "--machine"])
    assert machine.exit_code == 0, machine.output
    purge = runner.invoke(app, ["purge", "--json"])
    assert purge.exit_code == 0 and json.loads(purge.stdout)["alerts_purged"] == 0
    verify = runner.invoke(app, ["audit", "verify", "--json"])
    assert verify.exit_code == 0, verify.output
    report = json.loads(verify.stdout)
    assert report["ok"] and report["events_checked"] == 3  # two users created, one purge run


def test_user_add_and_update_name_the_person(isolated_home: Path) -> None:
    """Accounts carry the person's rank and collar number; records show "PC 1234 J. Smith"."""
    person = ["--name", "J. Smith", "--rank", "PC", "--number", "1234"]
    r = runner.invoke(
        app,
        ["user", "add", "j.smith", "--role", "operator", *person, "--password-stdin", "--json"],
        input="a long enough passphrase\n",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["person"] == "PC 1234 J. Smith"
    r = runner.invoke(app, ["user", "update", "j.smith", "--rank", "Sgt", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["person"] == "Sgt 1234 J. Smith"
    bad = runner.invoke(app, ["user", "update", "j.smith", "--number", "12;34"])
    assert bad.exit_code == 1
    missing = runner.invoke(app, ["user", "update", "nobody", "--rank", "PC"])
    assert missing.exit_code == 1 and "no user" in missing.output


def test_audit_verify_without_a_database_says_so(isolated_home: Path) -> None:
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 1 and "db upgrade" in r.output


def test_serve_answers_on_the_chosen_port(isolated_home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [OPENLFR, "serve", "--port", str(port), "--log-level", "warning"],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert r.json() == {"status": "ok", "database": "sqlite"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts").status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert (isolated_home / "openlfr.db").is_file()
