"""People, not accounts: an admin gives accounts a name, rank and collar number on the Users
page; the queue, the audit log and the published record then name "PC 1234 J. Smith", and
every time shown says it is UTC, as the record does."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from web_support import PEOPLE, LiveScene, ServeConsole, new_page, published_record, sign_in

from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


def _user_id(server: Any, username: str) -> int:
    users = server.ok("GET", "/users?limit=200", Role.ADMIN)["items"]
    return int(next(u["id"] for u in users if u["username"] == username))


def test_the_users_page_names_people_and_records_show_them(
    browser: Any, serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    operator = PEOPLE[Role.OPERATOR][0]
    # The scene was authorised through the officers' set-up account: give it a person.
    server.ok(
        "PATCH",
        f"/users/{_user_id(server, 'authorising-officer-setup')}",
        Role.ADMIN,
        json={"rank": "Supt", "staff_number": "0042", "display_name": "J. Hale"},
    )
    context, page = new_page(browser)
    try:
        # The admin sets the operator's rank and number in place, and adds a person.
        sign_in(page, server.base, PEOPLE[Role.ADMIN][0])
        page.goto(f"{server.base}/console/users")
        row = page.locator(f'tr[data-username="{operator}"]')
        row.get_by_label(f"Rank of {operator}").fill("PC")
        row.get_by_label(f"Collar or staff number of {operator}").fill("1234")
        row.get_by_label(f"Name of {operator}").fill("R. Jones")
        row.get_by_role("button", name="Save").click()
        expect(page.locator(f'tr[data-username="{operator}"] [data-person]')).to_have_text(
            "PC 1234 R. Jones"
        )
        form = page.locator("#new-user")
        form.get_by_label("Username").fill("pc-smith")
        form.get_by_label("Name", exact=True).fill("J. Smith")
        form.get_by_label("Rank").fill("PC")
        form.get_by_label("Collar or staff number").fill("5678")
        form.get_by_label("Role").select_option("operator")
        form.get_by_label("Password").fill("Correct-Horse-Battery-9")
        form.get_by_role("button", name="Add person").click()
        expect(page.locator('tr[data-username="pc-smith"] [data-person]')).to_have_text(
            "PC 5678 J. Smith"
        )
        context.close()

        # The operator decides; the queue, the header and the decision name the person.
        context, page = new_page(browser)
        sign_in(page, server.base, operator)
        expect(page.locator("header .who")).to_contain_text("PC 1234 R. Jones")
        expect(page.locator("#live-status")).to_have_text("Live")
        scene.raise_alert()
        card = page.locator("article.card").first
        card.locator('[data-step1] [data-decision="false_alert"]').click()
        card.locator('[data-for="false_alert"] button').click()
        expect(page.locator("#decided tr").first).to_contain_text("PC 1234 R. Jones")
        page.reload()
        expect(page.locator("#decided tr").first).to_contain_text("PC 1234 R. Jones")
        for text in page.locator("time").all_inner_texts():
            assert "UTC" in text, text
        context.close()
        alerts = server.ok("GET", f"/alerts?deployment_id={scene.deployment_id}", Role.OPERATOR)
        decided = alerts["items"][0]["adjudication"]
        assert decided["decided_by"] == f"user:{operator}"  # the account stays on record
        assert decided["decided_by_person"] == "PC 1234 R. Jones"

        # The auditor's log names people, with the account beside them.
        context, page = new_page(browser)
        sign_in(page, server.base, PEOPLE[Role.AUDITOR][0])
        page.goto(f"{server.base}/console/audit?action=alert.adjudicated")
        who = page.locator("table.events tbody tr").first.locator("td").nth(2)
        expect(who).to_contain_text("PC 1234 R. Jones")
        expect(who).to_contain_text(f"user:{operator}")
        for text in page.locator("table.events time").all_inner_texts():
            assert "UTC" in text, text
        context.close()

        # Closed, the published record names the authorising officer by rank and number.
        server.ok(
            "POST",
            f"/deployments/{scene.deployment_id}/close",
            Role.AUTHORISING_OFFICER,
            json={"reason": "end of shift"},
        )
        record = published_record(server, scene.deployment_id)
        assert record.status == "final" and record.published_at is not None
        assert record.authorised_by == "Supt 0042 J. Hale"
        assert record.authorised_by_account == "token:authorising-officer-setup"
        context, page = new_page(browser)
        sign_in(page, server.base, PEOPLE[Role.AUDITOR][0])
        page.goto(f"{server.base}/console/deployments/{scene.deployment_id}/record")
        expect(page.locator("main")).to_contain_text("Supt 0042 J. Hale")
    finally:
        context.close()
