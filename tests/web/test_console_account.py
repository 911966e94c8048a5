"""In a real browser: two-factor set-up and sign-in, an admin's temporary password, and
camera addresses shown masked."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from playwright.sync_api import expect
from web_support import PASSWORD, PEOPLE, ServeConsole, new_page, plan_deployment, shoot

from openlfr.api.testing import FAST_AUTH
from openlfr.users.roles import Role

OFFICER = PEOPLE[Role.AUTHORISING_OFFICER][0]
REQUIRED = ("admin", "authorising_officer", "watchlist_manager", "commander")
CAMERA = "rtsp://admin:S3cretCamPass@10.0.0.5:554/stream1?token=T0kenXyz42"


def _fill_sign_in(page: Any, base: str, username: str, password: str, code: str = "") -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authentication code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def test_officer_sets_up_two_factor_then_signs_in_with_a_code(
    browser: Any, serve_console: ServeConsole
) -> None:
    auth = FAST_AUTH.model_copy(update={"totp_required_roles": REQUIRED})
    server = serve_console(auth=auth)
    wl = server.ok("POST", "/watchlists", Role.WATCHLIST_MANAGER, json={"name": "masked"})["id"]
    dep = plan_deployment(server, name="Masked camera", watchlist_id=wl, camera_source=CAMERA)
    context, page = new_page(browser)
    try:
        # Password alone: every page leads to the Account page until a code is set up.
        _fill_sign_in(page, server.base, OFFICER, PASSWORD)
        page.wait_for_url("**/console/account")
        expect(page.get_by_role("status")).to_contain_text("Set it up before you continue")
        page.goto(f"{server.base}/console/deployments")
        assert page.url.endswith("/console/account")
        page.get_by_role("button", name="Set up an authenticator app").click()
        expect(page.get_by_role("img", name="QR code holding your sign-in key")).to_be_visible()
        secret = page.locator("#totp-secret").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
        shoot(page, "account-totp")
        page.get_by_label("Code from your app").fill("000000")
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
        expect(page.get_by_role("alert")).to_contain_text("not right")
        totp = pyotp.TOTP(secret)
        page.get_by_label("Code from your app").fill(totp.now())
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
        page.wait_for_url(lambda url: "/console/account" not in url)
        # The camera's credentials appear nowhere on the deployment's page.
        page.goto(f"{server.base}/console/deployments/{dep}")
        expect(page.get_by_text("rtsp://***@10.0.0.5:554/stream1?token=***")).to_be_visible()
        html = page.content()
        assert "S3cretCamPass" not in html and "T0kenXyz42" not in html
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/console/login")

        # Now the password alone fails, and so does a used code; a fresh code signs in.
        _fill_sign_in(page, server.base, OFFICER, PASSWORD)
        expect(page.get_by_role("alert")).to_contain_text("login failed")
        _fill_sign_in(page, server.base, OFFICER, PASSWORD, totp.at(time.time() - 30))
        expect(page.get_by_role("alert")).to_contain_text("login failed")
        _fill_sign_in(page, server.base, OFFICER, PASSWORD, totp.at(time.time() + 30))
        page.wait_for_url("**/console/deployments")
    finally:
        context.close()


def test_a_temporary_password_must_be_replaced_first(
    browser: Any, serve_console: ServeConsole
) -> None:
    server = serve_console()
    operator = PEOPLE[Role.OPERATOR][0]
    users = server.ok("GET", "/users?limit=100", Role.ADMIN)["items"]
    uid = next(u["id"] for u in users if u["username"] == operator)
    server.ok("PATCH", f"/users/{uid}", Role.ADMIN, json={"password": "temporary quartz 7 lid"})
    context, page = new_page(browser)
    try:
        _fill_sign_in(page, server.base, operator, "temporary quartz 7 lid")
        page.wait_for_url("**/console/account")
        expect(page.get_by_role("status")).to_contain_text("Choose your own")
        page.get_by_label("Current password").fill("temporary quartz 7 lid")
        page.get_by_label("New password").fill("password1234")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator("form").first.get_by_role("alert")).to_contain_text("common")
        page.get_by_label("New password").fill("harbour finch telescope 19")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url("**/console/alerts")
    finally:
        context.close()
