"""Every console page, as the role that uses it, checked with axe-core (contrast, labels,
names, structure) and for fitting a 1024 px wide screen without sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import NARROW, PEOPLE, WIDE, LiveScene, ServeConsole, new_page, sign_in

from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

axe_sync = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python"
)

# Impacts that make a page unusable for someone: these must not occur.
BLOCKING = {"serious", "critical"}


def _problems(page: Any) -> list[str]:
    results = axe_sync.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def test_every_page_passes_axe_and_fits_1024px(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    draft = server.ok(
        "POST",
        "/deployments",
        Role.WATCHLIST_MANAGER,
        json={
            "name": "Draft for review",
            "location": "Market Square",
            "purpose": "Locate people wanted on warrant",
            "legal_basis": "Common law policing powers",
            "planned_start": "2030-01-01T09:00:00Z",
            "planned_end": "2030-01-01T17:00:00Z",
        },
    )["id"]
    scene.raise_alert()
    visits: dict[Role | None, list[str]] = {
        None: ["/console/login"],
        Role.OPERATOR: [
            "/console/alerts",
            "/console/cameras",
            "/console/deployments",
            f"/console/deployments/{scene.deployment_id}",
        ],
        Role.AUTHORISING_OFFICER: [f"/console/deployments/{draft}", "/console/watchlists"],
        Role.WATCHLIST_MANAGER: ["/console/watchlists", "/console/watchlists/1"],
        Role.AUDITOR: ["/console/audit"],
        Role.ADMIN: ["/console/users", "/console/account"],
    }
    problems: list[str] = []
    for role, paths in visits.items():
        context, page = new_page(browser, WIDE)
        try:
            if role is not None:
                sign_in(page, server.base, PEOPLE[role][0])
            for path in paths:
                page.goto(server.base + path)
                expect(page.locator("main h1")).to_be_visible()
                for size in (WIDE, NARROW):
                    page.set_viewport_size(size)
                    problems += [f"{path} @ {size['width']}px: {p}" for p in _problems(page)]
                    scroll, inner = page.evaluate(
                        "[document.documentElement.scrollWidth, window.innerWidth]"
                    )
                    if scroll > inner:
                        problems.append(f"{path} @ {size['width']}px scrolls sideways ({scroll}px)")
        finally:
            context.close()
    assert problems == []
