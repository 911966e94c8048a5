"""The alert queue's behaviour between people and over a bad connection.

Alerts here are raised through the live link's callback (a fake launcher that runs no
camera), carrying a real face crop from the demo kit, so each test takes seconds; the
real pipeline is exercised in test_console_live.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from web_support import (
    NARROW,
    PEOPLE,
    SECOND_OPERATOR,
    ConsoleServer,
    CuttableLink,
    LiveScene,
    ServeConsole,
    new_page,
    shoot,
    sign_in,
)

from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


def _queue(page: Page, server: ConsoleServer, who: str) -> None:
    sign_in(page, server.base, who)
    expect(page.locator("#live-status")).to_have_text("Live")


def test_an_alert_taken_by_one_operator_shows_as_taken_to_the_other(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    first_ctx, first = new_page(browser)
    second_ctx, second = new_page(browser)
    try:
        _queue(first, server, PEOPLE[Role.OPERATOR][0])
        _queue(second, server, SECOND_OPERATOR[0])
        scene.raise_alert()
        mine = first.locator("article.card").first
        theirs = second.locator("article.card").first
        expect(mine).to_be_visible()
        expect(theirs).to_be_visible()

        mine.get_by_role("button", name="Match – not engaging").click()
        expect(theirs.locator("[data-taken]")).to_have_text(
            f"Taken: being handled by {PEOPLE[Role.OPERATOR][1]}"
        )
        expect(theirs.get_by_role("button", name="Match – engage")).to_be_disabled()
        expect(theirs.get_by_role("button", name="Take over this alert")).to_be_visible()
        shoot(second, "alerts-taken")

        mine.get_by_role("button", name="Cancel").click()  # given back
        expect(theirs.locator("[data-taken]")).to_be_hidden()
        expect(theirs.get_by_role("button", name="Match – engage")).to_be_enabled()

        mine.get_by_role("button", name="No match").click()
        mine.get_by_role("button", name="Confirm: no match (false alert)").click()
        expect(first.locator("article.card")).to_have_count(0)
        expect(second.locator("article.card")).to_have_count(0)  # gone from every queue
        expect(second.locator("#decided tr").first).to_contain_text("False alert")
        alert = server.ok("GET", "/alerts", Role.OPERATOR)["items"][0]
        assert alert["adjudication"]["decision"] == "false_alert"
        assert alert["adjudication"]["decided_by"] == f"user:{PEOPLE[Role.OPERATOR][0]}"
    finally:
        first_ctx.close()
        second_ctx.close()


def test_the_queue_shows_it_is_reconnecting_and_loses_nothing(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    link = CuttableLink(server.base)
    context, page = new_page(browser)
    try:
        sign_in(page, link.base, PEOPLE[Role.OPERATOR][0])
        status = page.locator("#live-status")
        expect(status).to_have_text("Live")
        scene.raise_alert()
        expect(page.locator("article.card")).to_have_count(1)
        link.cut()
        expect(status).to_have_text("Reconnecting…")
        shoot(page, "alerts-reconnecting")
        scene.raise_alert()  # raised while this console is cut off
        expect(page.locator("article.card")).to_have_count(1)  # what it shows stays usable
        link.restore()
        expect(status).to_have_text("Live", timeout=30_000)
        # Replayed: the same person's second sighting joined their card.
        looks = page.locator("article.card [data-looks]")
        expect(looks).to_have_text("2", timeout=30_000)
        expect(page.locator("article.card")).to_have_count(1)
        for image in page.locator("article.card img").all():  # pictures cut off come back
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
            )
    finally:
        context.close()
        link.close()


def test_an_alert_can_be_decided_with_the_keyboard_alone_at_1024px(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack, two_person=False)  # one operator engages alone here
    context, page = new_page(browser, NARROW)
    try:
        _queue(page, server, PEOPLE[Role.OPERATOR][0])
        scene.raise_alert()
        card = page.locator("article.card")
        expect(card).to_have_count(1)
        for _ in range(40):  # Tab through the page to the first decision button
            page.keyboard.press("Tab")
            label = page.evaluate("document.activeElement.textContent.trim()")
            if label.startswith("Match – engage"):
                break
        else:
            pytest.fail("the decision buttons cannot be reached with Tab")
        page.keyboard.press("Enter")  # click 1
        arrested = card.get_by_role("button", name="Arrested")
        expect(arrested).to_be_focused()  # focus moves to the second step
        page.keyboard.press("Escape")  # cancel keeps the alert
        expect(arrested).to_be_hidden()
        page.keyboard.press("Enter")  # focus is back on the first decision button
        expect(arrested).to_be_focused()
        page.keyboard.press("Tab")
        expect(card.get_by_role("button", name="Advised")).to_be_focused()
        page.keyboard.press("Enter")  # click 2
        expect(card).to_have_count(0)
        alert = server.ok("GET", "/alerts", Role.OPERATOR)["items"][0]
        assert alert["adjudication"]["outcome"] == "advised"
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]
    finally:
        context.close()
