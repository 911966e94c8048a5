"""The openlfr command as a user runs it: JSON outputs and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.realdata

EXAMPLES = "small/face_recognition_examples/images"
CATEGORY = "wanted_on_warrant"


def openlfr(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the installed console entry point in a child process (env carries OPENLFR_HOME)."""
    return subprocess.run(
        [sys.executable, "-m", "openlfr", *map(str, args)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def test_verify_json(shared_data: Path) -> None:
    img = shared_data / EXAMPLES
    same = openlfr("verify", img / "obama_01.jpg", img / "obama_02.jpg", "--json")
    assert same.returncode == 0, same.stderr
    out = json.loads(same.stdout)
    assert out["match"] is True and out["score"] >= out["threshold"]
    other = json.loads(
        openlfr("verify", img / "obama_01.jpg", img / "biden_01.jpg", "--json").stdout
    )
    assert other["match"] is False and other["score"] < out["score"]
    assert set(other) >= {"score", "threshold", "match"}


def test_enrol_identify_and_manage_watchlists(shared_data: Path) -> None:
    img = shared_data / EXAMPLES
    enrolled = openlfr(
        "enrol",
        "--watchlist",
        "w1",
        "--subject",
        "obama",
        "--category",
        "wanted_on_warrant",
        img / "obama_01.jpg",
        "--json",
    )
    assert enrolled.returncode == 0, enrolled.stderr
    assert json.loads(enrolled.stdout)["created_watchlist"] is True
    assert (
        openlfr("enrol", "-w", "w1", "-s", "biden", "-c", CATEGORY, img / "biden_01.jpg").returncode
        == 0
    )

    found = json.loads(openlfr("identify", "-w", "w1", img / "obama_03.jpg", "--json").stdout)
    assert [c["subject"] for c in found["candidates"]] == ["obama"]
    nobody = json.loads(
        openlfr("identify", "-w", "w1", img / "rose_leslie_01.jpg", "--json").stdout
    )
    assert nobody["candidates"] == []
    everyone = json.loads(
        openlfr("identify", "-w", "w1", img / "rose_leslie_01.jpg", "--all", "--json").stdout
    )
    scores = [c["score"] for c in everyone["candidates"]]
    assert len(scores) == 2 and scores == sorted(scores, reverse=True)

    listing = json.loads(openlfr("watchlist", "list", "--json").stdout)["watchlists"]
    assert [(w["name"], w["subjects"], w["templates"]) for w in listing] == [("w1", 2, 2)]
    shown = json.loads(openlfr("watchlist", "show", "w1", "--json").stdout)
    assert [s["subject"] for s in shown["subjects"]] == ["obama", "biden"]
    assert openlfr("watchlist", "remove", "w1", "--subject", "biden").returncode == 0
    assert openlfr("watchlist", "remove", "w1").returncode == 0
    assert json.loads(openlfr("watchlist", "list", "--json").stdout)["watchlists"] == []


def test_rejected_inputs_exit_1_with_the_reason_on_stderr(
    shared_data: Path, tmp_path: Path
) -> None:
    img = shared_data / EXAMPLES
    two = openlfr("enrol", "-w", "w", "-s", "x", "-c", CATEGORY, img / "multi_obama_biden_01.jpg")
    assert two.returncode == 1
    assert "2 faces found" in two.stderr and "nothing was enrolled" in two.stderr
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    assert openlfr("verify", not_image, img / "obama_01.jpg").returncode == 1
    missing = openlfr("verify", tmp_path / "absent.jpg", img / "obama_01.jpg")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    unknown = openlfr("identify", "-w", "nope", img / "obama_01.jpg")
    assert unknown.returncode == 1 and "no watchlist named 'nope'" in unknown.stderr


def test_usage_errors_exit_2() -> None:
    assert openlfr("identify").returncode == 2
    assert openlfr("no-such-command").returncode == 2
    bad_name = openlfr("watchlist", "show", "../etc")
    assert bad_name.returncode == 2 and "is not valid" in bad_name.stderr
