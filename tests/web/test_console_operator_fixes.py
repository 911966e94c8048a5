"""The operator's small frictions: one row per decision, the chosen button visibly chosen,
a closed deployment's watchlist no longer "in use", and every shown time naming its zone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from web_support import PEOPLE, LiveScene, ServeConsole, new_page, sign_in

from openlfr.config.server import RetentionConfig
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


def test_a_decision_is_listed_once_and_the_chosen_button_shows_it_is_chosen(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.OPERATOR][0])
        expect(page.locator("#live-status")).to_have_text("Live")
        scene.raise_alert()
        card = page.locator("article.card").first
        chosen = card.locator('[data-step1] [data-decision="false_alert"]')
        chosen.click()
        expect(chosen).to_have_attribute("aria-pressed", "true")
        other = card.locator('[data-step1] [data-decision="engaged"]')
        expect(other).to_have_attribute("aria-pressed", "false")
        # Shown by more than colour: an outline and a tick on the chosen one only.
        looks = page.evaluate(
            """([a, b]) => [a, b].map((el) => [getComputedStyle(el).outlineStyle,
                getComputedStyle(el, '::before').content])""",
            [chosen.element_handle(), other.element_handle()],
        )
        assert looks[0][0] == "solid" and "✓" in looks[0][1]
        assert looks[1][0] == "none" and "✓" not in looks[1][1]

        alert_id = int(card.get_attribute("data-alert-id") or 0)
        card.get_by_role("button", name="Confirm: no match (false alert)").click()
        expect(page.locator("article.card")).to_have_count(0)
        # The page hears of its own decision once more from the stream: still one row.
        page.wait_for_function(f"window.openlfrSettled.includes({alert_id})")
        expect(page.locator("#decided tr")).to_have_count(1)
        page.reload()
        expect(page.locator("#decided tr")).to_have_count(1)
    finally:
        context.close()


def test_a_closed_deployments_watchlist_reads_awaiting_purge_not_in_use(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console(retention=RetentionConfig(closed_deployment_hours=12))
    scene = LiveScene(server, pack)
    dep = server.ok("GET", f"/deployments/{scene.deployment_id}", Role.OPERATOR)
    wl = dep["watchlist_id"]
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.WATCHLIST_MANAGER][0])
        page.goto(f"{server.base}/console/watchlists")
        expect(page.locator("tbody")).to_contain_text("in use")
        server.ok(
            "POST",
            f"/deployments/{scene.deployment_id}/close",
            Role.AUTHORISING_OFFICER,
            json={"reason": "end of shift"},
        )
        page.reload()
        row = page.locator("tbody tr", has_text="demo-queue")
        expect(row).to_contain_text("awaiting purge")
        expect(row).not_to_contain_text("in use")
        page.goto(f"{server.base}/console/watchlists/{wl}")
        notice = page.locator(".notice.frozen")
        expect(notice).to_contain_text("awaiting purge")
        expect(notice).to_contain_text("no longer in use")
        # Every time on the page says which zone it is in.
        for text in page.locator("time").all_inner_texts():
            assert any(zone in text for zone in ("GMT", "BST", "UTC")), text
    finally:
        context.close()
