"""Logging in and out, session expiry, API tokens and account management."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openlfr.api.auth import SESSION_COOKIE
from openlfr.api.testing import PASSWORD, Api
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.testing import ManualClock
from openlfr.users.models import User
from openlfr.users.roles import Role

ADMIN = Role.ADMIN


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    ).status_code


def _clock(api: Api) -> ManualClock:
    assert isinstance(api.plane.clock, ManualClock)
    return api.plane.clock


def _events(api: Api, action: Action) -> int:
    with api.plane.database.session() as s:
        return audit.count_events(s, action=action)


def test_login_sets_a_strict_cookie_and_logout_ends_it(api: Api) -> None:
    client = api.client
    r = client.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["role"] == "operator"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/v1/auth/me").json()["username"] == "operator"
    assert client.get("/api/v1/alerts").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.set(SESSION_COOKIE, r.cookies[SESSION_COOKIE])  # replaying the old cookie
    assert client.get("/api/v1/auth/me").status_code == 401
    assert _events(api, Action.LOGIN) == 1 and _events(api, Action.LOGOUT) == 1


def test_password_is_stored_as_argon2id(api: Api) -> None:
    with api.plane.database.session() as s:
        stored = s.execute(select(User.password_hash).where(User.username == "auditor")).scalar()
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_failed_logins_are_audited_with_one_answer(api: Api) -> None:
    client = api.client
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x" * 12})
    wrong = client.post("/api/v1/auth/login", json={"username": "auditor", "password": "nope"})
    # Same answer whether the user exists or not.
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert _events(api, Action.LOGIN_FAILED) == 2
    assert _login(client, "auditor") == 200


@pytest.mark.parametrize("idle_minutes, ok", [(29, True), (31, False)])
def test_sessions_end_after_idling(api: Api, idle_minutes: int, ok: bool) -> None:
    assert _login(api.client, "operator") == 200
    _clock(api).advance(minutes=idle_minutes)
    assert (api.client.get("/api/v1/auth/me").status_code == 200) is ok


def test_sessions_end_after_their_lifetime_even_when_busy(api: Api) -> None:
    assert _login(api.client, "operator") == 200
    for _ in range(25):  # 12.5 hours of activity every half hour
        _clock(api).advance(minutes=29)
        api.client.get("/api/v1/auth/me")
    assert api.client.get("/api/v1/auth/me").status_code == 401


def test_api_tokens_can_be_revoked_and_expire(api: Api) -> None:
    r = api.call(
        "POST", "/auth/me/tokens", Role.AUDITOR, json={"name": "report", "expires_days": 1}
    )
    assert r.status_code == 201
    token = r.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/audit/verify", headers=bearer).status_code == 200
    assert token not in str(api.call("GET", "/auth/me/tokens", Role.AUDITOR).json())
    _clock(api).advance(days=1)
    assert api.client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    r = api.call("POST", "/auth/me/tokens", Role.AUDITOR, json={"name": "second"})
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    api.call("DELETE", f"/auth/me/tokens/{r.json()['id']}", Role.AUDITOR)
    assert api.client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    for bad in ("olfr_nope", "olfr_abc_def", "Basic x", token[:-1] + "x"):
        h = {"Authorization": f"Bearer {bad}"}
        assert api.client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_machine_accounts_use_tokens_only(api: Api) -> None:
    r = api.call(
        "POST",
        "/users",
        ADMIN,
        json={"username": "van-7", "display_name": "Van 7 uplink", "role": "operator"},
    )
    assert r.status_code == 201
    uid = r.json()["id"]
    assert _login(api.client, "van-7", "") == 401
    token = api.call("POST", f"/users/{uid}/tokens", ADMIN, json={"name": "uplink"}).json()["token"]
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "van-7"


def test_disabling_ends_access_but_never_the_last_admin(api: Api) -> None:
    assert _login(api.client, "operator") == 200
    uid = api.user_ids[Role.OPERATOR]
    assert api.call("PATCH", f"/users/{uid}", ADMIN, json={"active": False}).status_code == 200
    assert api.client.get("/api/v1/auth/me").status_code == 401
    assert _login(api.client, "operator") == 401
    sid = api.service_ids[Role.OPERATOR]
    assert api.call("PATCH", f"/users/{sid}", ADMIN, json={"active": False}).status_code == 200
    assert api.call("GET", "/auth/me", Role.OPERATOR).status_code == 401
    r = api.call("PATCH", f"/users/{api.user_ids[ADMIN]}", ADMIN, json={"role": "auditor"})
    assert r.status_code == 200  # the service account is an admin too
    r = api.call("PATCH", f"/users/{api.service_ids[ADMIN]}", ADMIN, json={"role": "auditor"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"
    r = api.call(
        "POST",
        "/users",
        ADMIN,
        json={"username": "x", "display_name": "x", "role": "admin", "password": "short"},
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.username"


def test_cookie_sessions_refuse_changes_from_other_sites(api: Api) -> None:
    assert _login(api.client, "admin") == 200
    body = {"username": "mallory", "display_name": "M", "role": "admin", "password": PASSWORD}
    evil = api.client.post("/api/v1/users", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "cross_site"
    same = api.client.post("/api/v1/users", json=body, headers={"Origin": "http://testserver"})
    assert same.status_code == 201
