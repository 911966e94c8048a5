"""What fuzzing found (issue #11, finding 9): values the database cannot hold, a reference to
a missing record, null for a required field and NUL characters are refused with a 4xx and
the JSON error body, on both backends, never a server error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from openlfr.api.testing import Api
from openlfr.users.roles import Role

ADMIN, AUDITOR, MANAGER = Role.ADMIN, Role.AUDITOR, Role.WATCHLIST_MANAGER
BEYOND_INT4 = 2**31  # PostgreSQL's `integer` ends one below
BEYOND_INT8 = 2**63  # SQLite's integers end one below


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert set(error) == {"code", "message", "fields", "rejections"}
    return dict(error)


def _fields(r: Any) -> set[str]:
    return {f["field"] for f in _error(r, 422)["fields"]}


def _plan(api: Api) -> int:
    now = api.plane.clock.now()
    body = {
        "name": "Saturday market",
        "location": "Market Square",
        "purpose": "locate people wanted on warrant",
        "legal_basis": "force LFR policy v3",
        "planned_start": now.isoformat(),
        "planned_end": (now + timedelta(hours=6)).isoformat(),
    }
    r = api.call("POST", "/deployments", MANAGER, json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


OUT_OF_RANGE = [
    ("GET", "/deployments/{n}", AUDITOR, "path.deployment_id"),
    ("GET", "/alerts/{n}", Role.OPERATOR, "path.alert_id"),
    ("GET", "/users/{n}", ADMIN, "path.user_id"),
    ("DELETE", "/users/1/tokens/{n}", ADMIN, "path.token_id"),
    ("GET", "/reference-images/{n}", MANAGER, "path.image_id"),
    ("GET", "/deployments?offset={n}", AUDITOR, "query.offset"),
    ("GET", "/audit/events?deployment_id={n}", AUDITOR, "query.deployment_id"),
    ("GET", "/alerts?deployment_id={n}", Role.OPERATOR, "query.deployment_id"),
]


def test_integers_beyond_the_database_range_are_invalid(api: Api) -> None:
    for big in (BEYOND_INT4, BEYOND_INT8, 10**30):
        for method, path, role, field in OUT_OF_RANGE:
            r = api.call(method, path.format(n=big), role)
            assert _fields(r) == {field}, (method, path, big)


def test_an_id_in_range_that_does_not_exist_is_not_found(api: Api) -> None:
    r = api.call("GET", f"/deployments/{BEYOND_INT4 - 1}", AUDITOR)
    assert _error(r, 404)["code"] == "not_found"


def test_a_body_referring_beyond_the_database_range_is_invalid(api: Api) -> None:
    dep = _plan(api)
    for big in (BEYOND_INT4, BEYOND_INT8):
        body = {"name": "h", "url": "https://x.test/h", "deployment_id": big}
        assert _fields(api.call("POST", "/subscriptions", ADMIN, json=body)) == {
            "body.deployment_id"
        }
        r = api.call("PATCH", f"/deployments/{dep}", MANAGER, json={"watchlist_id": big})
        assert _fields(r) == {"body.watchlist_id"}


def test_a_subscription_for_a_deployment_that_does_not_exist_is_not_found(api: Api) -> None:
    body = {"name": "hook", "url": "https://example.test/hook", "deployment_id": 424242}
    r = api.call("POST", "/subscriptions", ADMIN, json=body)
    assert _error(r, 404)["code"] == "not_found"
    assert api.call("GET", "/subscriptions", ADMIN).json() == []
    dep = _plan(api)
    r = api.call("POST", "/subscriptions", ADMIN, json=body | {"deployment_id": dep})
    assert r.status_code == 201, r.text


def test_patching_a_required_field_with_null_is_invalid(api: Api) -> None:
    dep = _plan(api)
    for field in ("name", "location", "purpose", "legal_basis", "planned_start", "threshold"):
        r = api.call("PATCH", f"/deployments/{dep}", MANAGER, json={field: None})
        assert _fields(r) == {f"body.{field}"}
    assert api.call("GET", f"/deployments/{dep}", AUDITOR).json()["name"] == "Saturday market"


def test_patching_may_still_detach_a_watchlist_and_leave_fields_out(api: Api) -> None:
    dep = _plan(api)
    wl = api.call("POST", "/watchlists", MANAGER, json={"name": "detach"}).json()["id"]
    r = api.call("PATCH", f"/deployments/{dep}", MANAGER, json={"watchlist_id": wl})
    assert r.status_code == 200 and r.json()["watchlist_id"] == wl
    r = api.call("PATCH", f"/deployments/{dep}", MANAGER, json={"watchlist_id": None})
    assert r.status_code == 200 and r.json()["watchlist_id"] is None
    assert api.call("PATCH", f"/deployments/{dep}", MANAGER, json={}).status_code == 200


def test_patching_an_account_with_null_is_invalid(api: Api) -> None:
    uid = api.user_ids[AUDITOR]
    for field in ("display_name", "role", "active", "password"):
        r = api.call("PATCH", f"/users/{uid}", ADMIN, json={field: None})
        assert _fields(r) == {f"body.{field}"}


def test_nul_characters_are_refused_wherever_they_come(api: Api) -> None:
    r = api.call("GET", "/watchlists", AUDITOR, params={"name": "a\x00b"})
    assert _fields(r) == {"query.name"}
    r = api.call("GET", "/audit/events", AUDITOR, params={"entity_id": "\x00"})
    assert _fields(r) == {"query.entity_id"}
    r = api.call("POST", "/watchlists", MANAGER, json={"name": "list", "description": "a\x00"})
    assert _fields(r) == {"body.description"}
    dep = _plan(api)
    r = api.call("PATCH", f"/deployments/{dep}", MANAGER, json={"location": "High St\x00"})
    assert _fields(r) == {"body.location"}
    camera = {"name": "cam-1", "source": "rtsp://cam\x00/live"}
    r = api.call("POST", f"/deployments/{dep}/cameras", MANAGER, json=camera)
    assert _fields(r) == {"body.source"}
    r = api.call("GET", "/deployments/1%00", AUDITOR)
    assert _fields(r) == {"path"}
    # A backslash before "u0000" is not a NUL: such text is kept as sent.
    r = api.call("POST", "/watchlists", MANAGER, json={"name": "ok", "description": "\\u0000"})
    assert r.status_code == 201 and r.json()["description"] == "\\u0000"


def test_the_console_refuses_them_too(api: Api) -> None:
    login = {"username": "auditor", "password": "correct horse battery staple"}
    assert api.client.post("/api/v1/auth/login", json=login).status_code == 200
    for path in ("/console/deployments/99999999999", "/console/alerts?deployment_id=1%00"):
        r = api.client.get(path)
        assert r.status_code == 422, (path, r.text)


@pytest.mark.parametrize("field", ["username", "password", "totp"])
def test_a_sign_in_with_a_nul_character_is_refused_and_audited(api: Api, field: str) -> None:
    body = {"username": "admin", "password": "correct horse battery staple", "totp": "123456"}
    body[field] = body[field][:3] + "\x00" + body[field][3:]
    r = api.client.post("/api/v1/auth/login", json=body)
    assert _fields(r) == {f"body.{field}"}
    assert "openlfr_session" not in r.cookies
    events = api.call(
        "GET", "/audit/events", AUDITOR, params={"action": "auth.login_failed"}
    ).json()["items"]
    assert [e["details"]["reason"] for e in events] == ["NUL character"]
    assert "\x00" not in events[0]["details"]["username"]
