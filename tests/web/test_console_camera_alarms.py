"""Camera health on every console page: a camera that drops frames beyond the limit, or
whose spool fills, is an alarm banner wherever a signed-in person looks, and in the audit log."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import (
    DEMOKIT,
    PEOPLE,
    ServeConsole,
    enrol_watchlist,
    new_page,
    plan_deployment,
    sign_in,
)

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.context import Actor
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.workers.hub import WorkerHub
from openlfr.workers.protocol import CameraHealth, Heartbeat

axe_sync = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python"
)


def _report(hub: WorkerHub, deployment_id: int, **health: Any) -> None:
    """One heartbeat from the worker that holds the camera, as the sync route passes it on."""
    camera = CameraHealth(deployment_id=deployment_id, name="cam-1", **health)
    hub.sync(Heartbeat(worker="van-1", pid=1, cameras=[camera]))


def test_a_dropping_camera_or_a_full_spool_is_an_alarm_on_every_page(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console(workers=True)
    hub = server.launcher
    assert isinstance(hub, WorkerHub)
    listed = [("DEMO-001", "demo", [DEMOKIT / "london_001_neutral.jpg"])]
    wl = enrol_watchlist(server, "alarms", listed)
    dep = plan_deployment(server, name="Alarm drill", watchlist_id=wl, camera_source="/dev/null")
    server.ok("POST", f"/deployments/{dep}/authorise", Role.AUTHORISING_OFFICER, json={})
    server.ok("POST", f"/deployments/{dep}/start", Role.OPERATOR)
    deadline = time.monotonic() + 30
    while dep not in hub.held():  # the start hands the deployment to the hub
        assert time.monotonic() < deadline, "the deployment never reached the hub"
        time.sleep(0.05)
    hub.sync(Heartbeat(worker="van-1", pid=1, cameras=[]))  # the worker takes the camera
    _report(hub, dep, state="running", frames=0, dropped_frames=0)
    _report(hub, dep, state="running", frames=100, dropped_frames=40)  # 29% dropped
    pages = {
        Role.OPERATOR: [
            "/console/alerts",
            "/console/cameras",
            "/console/deployments",
            f"/console/deployments/{dep}",
        ],
        Role.AUDITOR: ["/console/audit"],
        Role.WATCHLIST_MANAGER: ["/console/watchlists"],
    }
    context, page = new_page(browser)
    try:
        for role, paths in pages.items():
            context.clear_cookies()
            sign_in(page, server.base, PEOPLE[role][0])
            for path in paths:
                page.goto(server.base + path)
                banner = page.locator(".camera-alarms")
                expect(banner).to_contain_text(f"Deployment {dep}, camera cam-1: dropping")
                expect(banner).to_contain_text("29% of its frames")
        results = axe_sync.Axe().run(page)
        assert results.response["violations"] == [], results.generate_report()

        # The hub cannot take alerts and the worker's spool fills: an alarm before any is lost.
        _report(hub, dep, state="spool_full", frames=300, dropped_frames=40, error="500 waiting")
        page.goto(server.base + "/console/alerts")
        banner = page.locator(".camera-alarms")
        expect(banner).to_contain_text("camera cam-1: spool_full (500 waiting)")
    finally:
        context.close()
    server.plane.wait_for_alarms()  # recorded once each sync request has committed
    with server.plane.work(Actor.system("test")) as ctx:
        alarms = [
            audit.details_of(e)
            for e in audit.iter_events(ctx.db, deployment_id=dep)
            if e.action == Action.CAMERA_ALARM
        ]
    assert [a.get("state") for a in alarms] == ["dropping", "spool_full"]
