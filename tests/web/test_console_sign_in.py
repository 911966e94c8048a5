"""Signing in as each role, the navigation each sees, and the pages the server refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from web_support import PEOPLE, ServeConsole, new_page, shoot, sign_in

from openlfr.users.roles import Role
from openlfr.web.access import PAGES, Page, can_open, home, navigation


def test_each_role_signs_in_and_sees_only_its_pages(
    browser: Any, serve_console: ServeConsole
) -> None:
    server = serve_console()
    context, page = new_page(browser)
    try:
        page.goto(f"{server.base}/console/alerts")
        assert "/console/login" in page.url  # not signed in: sent to sign in, then back
        shoot(page, "login", docs=True)
        page.get_by_label("Username").fill(PEOPLE[Role.OPERATOR][0])
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("login failed")

        for role, (username, display_name) in PEOPLE.items():
            sign_in(page, server.base, username)
            assert page.url.endswith(home(role)), (role, page.url)
            menu = page.get_by_role("navigation", name="Main").get_by_role("link")
            expect(menu).to_have_text([p.title for p in navigation(role)])
            expect(page.locator("header .who")).to_contain_text(display_name)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url("**/console/login")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("blocked", "deep_link"),
    [(Page.WATCHLISTS, "/console/watchlists/1"), (Page.AUDIT, "/console/audit?action=auth.login")],
)
def test_an_operator_cannot_open_watchlists_or_audit(
    browser: Any, serve_console: ServeConsole, blocked: Page, deep_link: str
) -> None:
    server = serve_console()
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.OPERATOR][0])
        info = next(p for p in PAGES if p.page == blocked)
        expect(page.get_by_role("link", name=info.title)).to_have_count(0)
        for path in (info.path, deep_link):  # refused whatever the menu shows
            response = page.goto(f"{server.base}{path}")
            assert response is not None and response.status == 403
            expect(page.get_by_role("heading", name="Not available to your role")).to_be_visible()
        export = page.request.get(f"{server.base}/console/audit/export")
        assert export.status == 403
    finally:
        context.close()


def test_pages_follow_the_role_table() -> None:
    """The menu is derived from the permissions; the duties stay apart."""
    assert [p.page for p in navigation(Role.OPERATOR)] == [
        Page.ALERTS,
        Page.CAMERAS,
        Page.DEPLOYMENTS,
    ]
    assert not can_open(Role.AUDITOR, Page.ALERTS)  # auditors read no faces
    assert not can_open(Role.ADMIN, Page.CAMERAS)
    assert can_open(Role.WATCHLIST_MANAGER, Page.WATCHLISTS)
    assert can_open(Role.AUTHORISING_OFFICER, Page.WATCHLISTS)
    assert [r for r in Role if can_open(r, Page.AUDIT)] == [Role.ADMIN, Role.AUDITOR]


def test_console_endpoints_refuse_without_a_session(serve_console: ServeConsole) -> None:
    server = serve_console()
    with httpx.Client(base_url=server.base, follow_redirects=False, timeout=30) as client:
        r = client.get("/console/alerts", headers={"Accept": "text/html"})
        assert r.status_code == 303
        assert r.headers["location"] == "/console/login?next=/console/alerts"
        assert client.get("/").headers["location"] == "/console/"
        r = client.post("/console/api/alerts/1/claim")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
        r = client.get("/console/api/preview/1/cam-1.jpg")
        assert r.status_code == 401
        r = client.get("/console/audit/export")
        assert r.status_code == 401
        # Only paths inside the console are followed after signing in.
        page = client.get("/console/login", params={"next": "https://elsewhere.example/"})
        assert 'data-next="/console/"' in page.text
        assert "content-security-policy" in page.headers
