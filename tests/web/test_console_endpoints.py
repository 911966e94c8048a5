"""The console's own endpoints (claims, decisions, preview, events, audit export), called
without a browser: who may call each, and what each refuses."""

from __future__ import annotations

import csv
import io
import json

import httpx
from web_support import SECOND_OPERATOR, LiveScene, ServeConsole

from openlfr.api.testing import PASSWORD
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


def _as(server_base: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server_base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def test_claims_and_decisions_follow_the_roles_and_the_alert_state(
    serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack, two_person=False)  # per-alert decisions, one person
    scene.raise_alert()
    alert = server.ok("GET", "/alerts", Role.OPERATOR)["items"][0]["id"]
    claim = f"/console/api/alerts/{alert}/claim"
    decision = f"/console/api/alerts/{alert}/decision"
    for role in (Role.AUTHORISING_OFFICER, Role.AUDITOR, Role.ADMIN, Role.WATCHLIST_MANAGER):
        with _as(server.base, server.tokens[role]) as client:
            assert client.post(claim).status_code == 403, role
            body = {"decision": "false_alert"}
            assert client.post(decision, json=body).status_code == 403, role

    with (
        _as(server.base, server.tokens[Role.OPERATOR]) as first,
        httpx.Client(base_url=server.base, timeout=60) as second,
    ):
        r = second.post(
            "/api/v1/auth/login", json={"username": SECOND_OPERATOR[0], "password": PASSWORD}
        )
        assert r.status_code == 200  # the console's session cookie works as well as a token
        # A token belongs to a service account, so the claim names that account.
        assert first.post(claim).json()["display_name"] == "Set-up (operator)"
        taken = second.post(claim)
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "taken"
        assert second.post(claim, params={"force": "true"}).status_code == 200

        refused = second.post(decision, json={"decision": "engaged"})  # no outcome
        assert refused.status_code == 422
        done = second.post(decision, json={"decision": "engaged", "outcome": "advised"})
        assert done.status_code == 201
        assert done.json()["adjudication"]["decided_by"] == f"user:{SECOND_OPERATOR[0]}"
        again = first.post(decision, json={"decision": "false_alert"})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_adjudicated"
        assert first.post(claim).json()["error"]["code"] == "already_adjudicated"
        assert first.post("/console/api/alerts/999/claim").status_code == 404


def test_preview_and_card_need_the_right_to_see_alert_faces(
    serve_console: ServeConsole, pack: ModelPack
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    scene.raise_alert()
    picture = f"/console/api/preview/{scene.deployment_id}/cam-1.jpg"
    rates = f"/console/api/preview/{scene.deployment_id}/cam-1"
    with _as(server.base, server.tokens[Role.AUDITOR]) as auditor:
        assert auditor.get(picture).status_code == 403
        assert auditor.get("/console/alerts/1/card").status_code == 403
    with _as(server.base, server.tokens[Role.OPERATOR]) as operator:
        assert operator.get(picture).status_code == 204  # the fake camera sends no picture
        body = operator.get(rates).json()
        assert body["state"] == "running" and body["picture"] is False
        card = operator.get("/console/alerts/1/card")
        assert card.status_code == 200
        assert 'src="/api/v1/alerts/1/crop"' in card.text
        assert "DEMO-001" in card.text
        with operator.stream("GET", "/console/api/events") as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            lines = events.iter_lines()
            assert next(lines).startswith("retry:")
            assert next(lines) == ""
            assert next(lines) == "event: claims"


def test_audit_search_and_export(serve_console: ServeConsole, pack: ModelPack) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)
    scene.raise_alert()
    with _as(server.base, server.tokens[Role.AUDITOR]) as auditor:
        page = auditor.get("/console/audit", params={"actor": "authorising-officer-setup"})
        assert page.status_code == 200
        assert "<code>deployment.authorised</code>" in page.text
        assert "<code>subject.enrolled</code>" not in page.text  # the watchlist manager's
        found = auditor.get("/console/audit", params={"text": "DEMO-001", "since": "2000-01-01"})
        assert "<code>subject.enrolled</code>" in found.text
        none = auditor.get("/console/audit", params={"until": "2000-01-01"})
        assert "No events match." in none.text

        exported = auditor.get(
            "/console/audit/export", params={"format": "jsonl", "action": "alert.created"}
        )
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        rows = [json.loads(line) for line in exported.text.splitlines()]
        assert [r["action"] for r in rows] == ["alert.created"]
        assert rows[0]["details"]["subject_reference"] == "DEMO-001"
        assert len(rows[0]["hash"]) == 64 and len(rows[0]["prev_hash"]) == 64

        table = auditor.get("/console/audit/export", params={"format": "csv"})
        records = list(csv.DictReader(io.StringIO(table.text)))
        assert records[0]["seq"] == "1"
        assert [int(r["seq"]) for r in records] == sorted(int(r["seq"]) for r in records)
        assert any(r["action"] == "audit.exported" for r in records)  # exporting is on record
