"""The deployment page under a jurisdiction's profile: a blocked go-live shows every reason,
the authority's reference and signage unblock it; axe finds nothing on the way."""

from __future__ import annotations

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
    shoot,
    sign_in,
)

from openlfr.config.authorisation import AuthorisationConfig
from openlfr.users.roles import Role

OFFICER = Role.AUTHORISING_OFFICER

axe_sync = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python"
)


def _violations(page: Any) -> list[str]:
    results = axe_sync.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]]


def test_a_blocked_go_live_shows_its_reasons_until_the_record_is_complete(
    browser: Any, serve_console: ServeConsole
) -> None:
    server = serve_console(authorisation=AuthorisationConfig(jurisdiction="uk"))
    wl = enrol_watchlist(
        server, "demo-list", [("DEMO-001", "demo", [DEMOKIT / "london_001_neutral.jpg"])]
    )
    dep = plan_deployment(server, name="Market day", watchlist_id=wl, camera_source="/dev/null")
    server.ok("POST", f"/deployments/{dep}/authorise", OFFICER, json={"note": "ok"})
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.COMMANDER][0])
        page.goto(f"{server.base}/console/deployments/{dep}")
        blocked = page.locator("#go-live-blocked")
        expect(blocked).to_be_visible()
        reasons = blocked.locator("li")
        expect(reasons).to_have_count(4)
        for words in ("legal basis category", "authorising authority", "reference", "Signage"):
            expect(blocked).to_contain_text(words)
        assert _violations(page) == []
        page.get_by_role("button", name="Start: go live").click()
        error = page.locator("#start [data-errors]")
        expect(error).to_contain_text("cannot go live")
        expect(error).to_contain_text("no legal basis category is recorded")
        shoot(page, "deployment-go-live-blocked", docs=True, full_page=True)
        assert _violations(page) == []

        # The planner adds what is theirs; the commander records the reference and signage.
        legal = {"legal_basis_category": "common_law_policing", "authority": "Supt. A. Khan"}
        server.ok("PATCH", f"/deployments/{dep}", Role.WATCHLIST_MANAGER, json=legal)
        page.reload()
        expect(page.locator("#go-live-blocked li")).to_have_count(2)
        page.get_by_label("The authority's reference", exact=True).fill("LFR-2026-031")
        page.get_by_role("button", name="Record reference").click()
        expect(page.locator("#legal")).to_contain_text("LFR-2026-031")
        expect(page.locator("#go-live-blocked")).to_have_count(0)
        page.get_by_label("Signs telling the public").check()
        page.get_by_role("button", name="Start: go live").click()
        expect(page.locator("h1 .badge")).to_have_text("Live")
        expect(page.locator("#legal")).to_contain_text("confirmed by Insp. Lee Reid")
        assert _violations(page) == []
    finally:
        context.close()


def test_a_refusal_on_the_console_stops_and_purges(
    browser: Any, serve_console: ServeConsole
) -> None:
    server = serve_console(authorisation=AuthorisationConfig(jurisdiction="uk"))
    wl = enrol_watchlist(
        server, "demo-list", [("DEMO-001", "demo", [DEMOKIT / "london_001_neutral.jpg"])]
    )
    dep = plan_deployment(server, name="Urgent", watchlist_id=wl, camera_source="/dev/null")
    legal = {"legal_basis_category": "common_law_policing", "authority": "Westminster Magistrates"}
    server.ok("PATCH", f"/deployments/{dep}", Role.WATCHLIST_MANAGER, json=legal)
    server.ok("POST", f"/deployments/{dep}/authorise", OFFICER, json={"note": "ok"})
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.COMMANDER][0])
        page.goto(f"{server.base}/console/deployments/{dep}")
        expect(page.locator("#go-live-blocked")).to_contain_text("you may start urgently")
        page.get_by_label("Signs telling the public").check()
        page.get_by_label("Urgent start").fill("A missing child; the court sits at 10:00")
        page.get_by_role("button", name="Start: go live").click()
        expect(page.locator("#urgent-clock")).to_be_visible()
        assert _violations(page) == []
        page.get_by_label("The authority refused").fill("Not proportionate at this site")
        page.get_by_role("button", name="Record refusal").click()
        expect(page.locator("#revoked")).to_contain_text("the authority refused")
        expect(page.locator("h1 .badge")).to_have_text("Closed")
        assert _violations(page) == []
    finally:
        context.close()
