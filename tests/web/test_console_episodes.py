"""Alert episodes in the console: a person's repeat sightings are one card that keeps its
place, new people join the end, each card says how long it has waited and shows its other
looks and an obscured scene, and the keyboard decides it. Two-person verification: an
engagement proposed by one operator is actionable only once a second confirms it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import (
    PEOPLE,
    SECOND_OPERATOR,
    LiveScene,
    ServeConsole,
    new_page,
    published_record,
    shoot,
    sign_in,
)

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.context import Actor
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack

axe_sync = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python"
)


def _axe(page: Any) -> list[str]:
    results = axe_sync.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def _pending(server: Any, deployment_id: int) -> list[dict[str, Any]]:
    query = f"/episodes?pending=true&deployment_id={deployment_id}"
    return list(server.ok("GET", query, Role.OPERATOR)["items"])


def test_repeat_sightings_join_one_card_that_keeps_its_place(
    browser: Any, serve_console: ServeConsole, pack: ModelPack, tmp_path: Path
) -> None:
    server = serve_console()
    scene = LiveScene(
        server, pack, cameras=("cam-1", "cam-2"), scene_folder=tmp_path / "scene", people=3
    )
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.OPERATOR][0])
        expect(page.locator("#live-status")).to_have_text("Live")
        cards = page.locator("article.card")
        scene.raise_alert(subject="DEMO-001", score=0.74)
        expect(cards).to_have_count(1)
        scene.raise_alert(subject="DEMO-002", score=0.70)
        expect(cards).to_have_count(2)
        first = cards.nth(0)
        expect(first.locator("h2")).to_contain_text("DEMO-001")
        first.locator('[data-step1] [data-decision="engaged"]').focus()  # where the operator is
        scene.raise_alert(subject="DEMO-001", camera="cam-2", score=0.86)
        scene.raise_alert(subject="DEMO-001", score=0.78)
        expect(first.locator("[data-looks]")).to_have_text("3")
        expect(cards).to_have_count(2)  # the new looks joined the card, nothing moved
        expect(cards.nth(0).locator("h2")).to_contain_text("DEMO-001")
        expect(first.locator("[data-cameras]")).to_contain_text("cam-1, cam-2")
        expect(first.locator(".looks li")).to_have_count(2)
        expect(first.locator(".score")).to_have_text("0.860")
        expect(first.locator('img[data-face="scene"]')).to_be_visible()
        assert page.evaluate("document.activeElement.dataset.decision") == "engaged"
        scene.raise_alert(subject="DEMO-003", score=0.72)
        expect(cards).to_have_count(3)
        expect(cards.nth(2).locator("h2")).to_contain_text("DEMO-003")  # new people: the end
        expect(page.locator("#pending-count")).to_have_text("3")
        waited = first.locator("[data-waited]")
        before = waited.inner_text()
        expect(waited).not_to_have_text(before)  # the clock on the card moves
        expect(page.locator("#keys")).to_contain_text("no match")
        scene_img = first.locator('img[data-face="scene"]')
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=scene_img.element_handle()
        )
        assert _axe(page) == []
        shoot(page, "queue-episodes", docs=True, full_page=True)

        # The keyboard: X then 1 records "no match" for the card the focus is in.
        first.focus()
        page.keyboard.press("x")
        expect(first.locator("[data-step2]")).to_be_visible()
        page.keyboard.press("1")
        expect(cards).to_have_count(2)
        expect(page.locator("#decided tr").first).to_contain_text("DEMO-001")
        expect(page.locator("#decided tr").first).to_contain_text("3")
    finally:
        context.close()
    alerts = server.ok("GET", f"/alerts?deployment_id={scene.deployment_id}", Role.OPERATOR)
    decided = [a for a in alerts["items"] if a["adjudication"]]
    assert len(decided) == 3 and {a["adjudication"]["decision"] for a in decided} == {"false_alert"}
    assert [e["subject_reference"] for e in _pending(server, scene.deployment_id)] == [
        "DEMO-002",
        "DEMO-003",
    ]


def test_an_engagement_is_actionable_only_once_a_second_operator_confirms(
    browser: Any, serve_console: ServeConsole, pack: ModelPack, tmp_path: Path
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack, scene_folder=tmp_path / "scene")
    first_ctx, first = new_page(browser)
    second_ctx, second = new_page(browser)
    try:
        sign_in(first, server.base, PEOPLE[Role.OPERATOR][0])
        sign_in(second, server.base, SECOND_OPERATOR[0])
        for page in (first, second):
            expect(page.locator("#live-status")).to_have_text("Live")
        scene.raise_alert()
        card = first.locator("article.card").first
        card.locator('[data-step1] [data-decision="engaged"]').click()
        card.get_by_role("button", name="Propose engagement").click()
        expect(card.locator(".verify-note")).to_contain_text("You proposed engaging")
        expect(card.locator("[data-step1]")).to_have_count(0)  # nothing more for the proposer
        (ep,) = _pending(server, scene.deployment_id)
        assert ep["verification"] == "proposed" and ep["decided_at"] is None

        other = second.locator("article.card").first
        note = other.locator(".verify-note")
        expect(note).to_contain_text(f"{PEOPLE[Role.OPERATOR][1]} proposed engaging")
        expect(note).to_contain_text("UTC")
        other.locator('[data-step1] [data-decision="engaged"]').click()
        other.get_by_role("button", name="Confirm engagement").click()
        expect(other.locator(".verify-note")).to_contain_text("Engagement confirmed")
        expect(other.locator(".verify-note")).to_contain_text(SECOND_OPERATOR[1])
        expect(card.locator(".verify-note")).to_contain_text("Engagement confirmed")  # live
        assert _axe(second) == []
        shoot(second, "two-person-confirmation", docs=True)

        card.locator('[data-step1] [data-decision="engaged"]').click()
        card.get_by_role("button", name="Arrested").click()
        expect(first.locator("article.card")).to_have_count(0)
        row = first.locator("#decided tr").first
        expect(row).to_contain_text("Confirmed")
        expect(row).to_contain_text(f"{PEOPLE[Role.OPERATOR][1]} and {SECOND_OPERATOR[1]}")
    finally:
        first_ctx.close()
        second_ctx.close()
    (alert,) = server.ok("GET", f"/alerts?deployment_id={scene.deployment_id}", Role.OPERATOR)[
        "items"
    ]
    assert alert["adjudication"]["outcome"] == "arrested"
    check = alert["verification"]
    assert check["verification"] == "confirmed"
    assert check["proposed_by"] == f"user:{PEOPLE[Role.OPERATOR][0]}"
    assert check["checked_by"] == f"user:{SECOND_OPERATOR[0]}"
    assert check["proposed_at"] <= check["checked_at"]
    server.ok(
        "POST",
        f"/deployments/{scene.deployment_id}/close",
        Role.AUTHORISING_OFFICER,
        json={"reason": "end of shift"},
    )
    record = published_record(server, scene.deployment_id)
    with server.plane.work(Actor.system("test")) as ctx:
        actions = [e.action for e in audit.iter_events(ctx.db, deployment_id=scene.deployment_id)]
    assert Action.ENGAGEMENT_PROPOSED in actions and Action.ENGAGEMENT_CONFIRMED in actions
    assert record.published_at is not None and record.two_person is not None
    assert (record.two_person.confirmed, record.two_person.disputed) == (1, 0)
    context, page = new_page(browser)
    try:
        sign_in(page, server.base, PEOPLE[Role.AUDITOR][0])
        page.goto(f"{server.base}/console/deployments/{scene.deployment_id}/record")
        expect(page.locator("#two-person-counts")).to_contain_text("1 confirmed, 0 disputed")
        expect(page.locator("#record-authority")).to_be_visible()  # the legal record, stated
        assert _axe(page) == []
    finally:
        context.close()
