"""``openlfr demo`` end to end, offline, on the shipped kit only: it starts, a real alert on a
real face appears through the API, Ctrl-C stops it cleanly; a second run reuses the state with
new passwords; a browser sees the alert queue and the deployment record; --reset starts afresh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from demo_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DOCS_ENV,
    DOCS_IMAGES,
    REPO,
    DemoProcess,
    next_code,
    password,
    publish,
    totp_key,
    wait_for_alert,
)

# Intel's clip shows demo subjects 009 and 010; the synthetic street the listed walkers.
CLIP_SUBJECTS = {"DEMO-009", "DEMO-010"}
STARTUP_S = 240  # composing and encoding the scene once, loading the models, enrolling
ALERT_S = 120


@dataclass
class FirstRun:
    home: Path
    ready: dict[str, Any]
    alert: dict[str, Any]
    printed_alert: dict[str, Any]
    crop_type: str
    live_cameras: list[dict[str, Any]]
    exit_code: int
    stopped: dict[str, Any]


def _report(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPENLFR_HOME=str(home), OPENLFR_CONFIG=str(home / "none.toml"))
    return subprocess.run(
        [sys.executable, "-m", "openlfr", "report", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    home = tmp_path_factory.mktemp("demo-e2e") / "demo"
    demo = DemoProcess(home)
    try:
        ready = demo.next_event("ready", STARTUP_S)
        operator = demo.session("demo-operator", password(ready, "demo-operator"))
        alert = wait_for_alert(operator, ready["deployment_id"], ALERT_S)
        printed = demo.next_event("alert", 30)
        crop = operator.get(f"/api/v1/alerts/{alert['id']}/crop")
        assert crop.status_code == 200
        live = operator.get(f"/api/v1/deployments/{ready['deployment_id']}/live").json()
        code = demo.interrupt()
        stopped = demo.next_event("stopped", 10)
    finally:
        demo.kill()
    yield FirstRun(home, ready, alert, printed, crop.headers["content-type"], live, code, stopped)


def test_demo_starts_alerts_on_a_listed_face_and_stops_cleanly(first_run: FirstRun) -> None:
    ready = first_run.ready
    assert ready["deployment_id"] == 1 and ready["reused"] is False
    assert {a["role"] for a in ready["accounts"]} == {
        "admin",
        "authorising_officer",
        "watchlist_manager",
        "operator",
        "auditor",
    }
    assert {c["name"] for c in ready["cameras"]} == {"street", "intel-street"}
    # The first alert is someone listed who is really there: a walker of the synthetic
    # street or one of the two people of Intel's clip.
    expected = set(ready["listed_walkers"]) | CLIP_SUBJECTS
    assert first_run.alert["subject_reference"] in expected
    assert first_run.alert["score"] >= first_run.alert["threshold"]
    assert first_run.printed_alert["subject_reference"] in expected
    assert first_run.crop_type.startswith("image/")
    assert {c["name"] for c in first_run.live_cameras} == {"street", "intel-street"}
    # "dropping" is a running camera that a busy machine leaves behind: an alarm about
    # the machine, not a camera that stopped.
    assert all(c["state"] in ("running", "dropping") for c in first_run.live_cameras)
    assert first_run.exit_code == 0
    stopped = first_run.stopped
    assert stopped["state"] == "authorised" and stopped["end_reason"] == "server stopped"
    assert stopped["faces_seen"] >= 1 and stopped["alerts_total"] >= 1


def test_the_record_counts_what_the_demo_saw(first_run: FirstRun) -> None:
    done = _report(first_run.home, "deployment", "1", "--format", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "provisional"
    assert record["faces_seen"] == first_run.stopped["faces_seen"]
    assert record["alerts"] == first_run.stopped["alerts_total"]
    assert record["watchlist_size"] == 10 and record["area"] == "Demo borough"
    assert record["periods_of_use"] == 1
    assert [row["category"] for row in record["outcomes_by_category"]] == ["demo"]
    missing = _report(first_run.home, "deployment", "99")
    assert missing.returncode == 1 and "no deployment with id 99" in missing.stderr
    as_csv = _report(first_run.home, "deployment", "1", "--format", "csv")
    assert as_csv.returncode == 0 and as_csv.stdout.count("\n") == 2
    today = datetime.now(UTC).date()
    out = first_run.home.parent / "transparency.html"
    done = _report(
        first_run.home,
        "transparency",
        "--from",
        str(today - timedelta(days=1)),
        "--to",
        str(today + timedelta(days=1)),
        "--out",
        str(out),
        "--evaluation",
        str(REPO / "docs" / "evaluation"),
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "Demo borough" in page and page.count("data:image/png;base64,") == 5


def test_a_second_run_reuses_the_state_and_shows_the_console(
    first_run: FirstRun, tmp_path: Path
) -> None:
    demo = DemoProcess(first_run.home)
    try:
        ready = demo.next_event("ready", STARTUP_S)
        assert (
            ready["reused"] is True and ready["deployment_id"] == first_run.ready["deployment_id"]
        )
        old, new = password(first_run.ready, "demo-operator"), password(ready, "demo-operator")
        assert old != new
        import httpx

        refused = httpx.post(
            f"{demo.base}/api/v1/auth/login",
            json={"username": "demo-operator", "password": old},
            timeout=30,
        )
        assert refused.status_code == 401
        operator = demo.session("demo-operator", new)
        dep = ready["deployment_id"]
        alert = wait_for_alert(operator, dep, ALERT_S)
        r = operator.post(
            f"/api/v1/alerts/{alert['id']}/adjudication",
            json={"decision": "not_engaged", "notes": "demo"},
        )
        assert r.status_code == 201, r.text
        for _ in range(2):  # two alerts at least, for the queue
            demo.next_event("alert", ALERT_S)
        _browse(demo, ready)
        officer = demo.session(
            "demo-officer", password(ready, "demo-officer"), totp_key(ready, "demo-officer")
        )
        record = officer.get(f"/console/deployments/{dep}/record.json")
        assert record.status_code == 200
        assert record.json()["status"] == "final" and record.json()["true_alerts"] >= 1
        assert demo.interrupt() == 0
        stopped = demo.next_event("stopped", 10)
        assert stopped["state"] == "closed"
    finally:
        demo.kill()


def _browse(demo: DemoProcess, ready: dict[str, Any]) -> None:
    """The operator's queue with a live alert, then the officer closes the deployment and
    opens its record; screenshots of both (into docs/images on request)."""
    dep = ready["deployment_id"]
    officer = demo.session(
        "demo-officer", password(ready, "demo-officer"), totp_key(ready, "demo-officer")
    )
    if not CHROMIUM.is_file():
        officer.post(
            f"/api/v1/deployments/{dep}/close",
            json={"reason": "end of the demo", "pending_reason": "the demo ends with alerts open"},
        )
        return
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for username, steps in (("demo-operator", _queue), ("demo-officer", _close)):
                context = browser.new_context(
                    viewport={"width": 1280, "height": 800}, locale="en-GB"
                )
                context.set_default_timeout(30_000)
                page = context.new_page()
                page.goto(f"{demo.base}/console/login")
                page.get_by_label("Username").fill(username)
                page.get_by_label("Password").fill(password(ready, username))
                key = totp_key(ready, username)
                if key is not None:
                    page.get_by_label("Authentication code").fill(next_code(key))
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(lambda url: "/console/login" not in url)
                steps(page, demo.base, dep)
                context.close()
        finally:
            browser.close()


def _shoot(page: Any, name: str, *, full_page: bool = False) -> None:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get(DOCS_ENV) == "1":
        publish(path, DOCS_IMAGES / f"{name}.png")


def _queue(page: Any, base: str, dep: int) -> None:
    page.goto(f"{base}/console/alerts")
    page.locator("article.card").first.wait_for()
    page.locator("article.card img[data-face='live']").first.wait_for()
    _shoot(page, "demo-alert-queue")
    page.goto(f"{base}/console/cameras")
    for picture in page.locator("img[data-picture]").all():
        picture.wait_for()  # the blurred live view of each camera
    _shoot(page, "demo-cameras")


def _close(page: Any, base: str, dep: int) -> None:
    page.goto(f"{base}/console/deployments/{dep}")
    page.locator("#x-reason").fill("End of the demonstration")
    if page.locator("#x-pending-reason").count():
        page.locator("#x-pending-reason").fill("The demonstration ends with alerts open")
    page.get_by_role("button", name="Close deployment").click()
    page.get_by_role("link", name="Published deployment record").click()
    page.get_by_role("heading", name="What it found").wait_for()
    assert "Faces seen (estimated)" in page.content()
    _shoot(page, "demo-deployment-record", full_page=True)


def test_reset_starts_afresh(first_run: FirstRun) -> None:
    demo = DemoProcess(first_run.home, "--reset")
    try:
        ready = demo.next_event("ready", STARTUP_S)
        assert ready["reused"] is False and ready["deployment_id"] == 1
        admin = demo.session(
            "demo-admin", password(ready, "demo-admin"), totp_key(ready, "demo-admin")
        )
        listed = admin.get("/api/v1/deployments").json()
        assert listed["total"] == 1 and listed["items"][0]["runs"][0]["ended_at"] is None
        assert demo.interrupt() == 0
    finally:
        demo.kill()
