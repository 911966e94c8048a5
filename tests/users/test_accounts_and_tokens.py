"""Tokens only for service accounts; an admin's password reset is temporary and ends the
owner's sessions and tokens; every audit event names the credential that acted."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from openlfr.api.testing import PASSWORD, Api
from openlfr.audit.models import AuditEvent
from openlfr.users.credentials import digest, new_api_token
from openlfr.users.models import ApiToken, LoginSession
from openlfr.users.roles import Role

ADMIN, OPERATOR = Role.ADMIN, Role.OPERATOR
NEW = "ochre lantern migrates slowly"
MINE = "kestrel above the quiet ring road"


def _person_client(api: Api, username: str, password: str) -> TestClient:
    client = TestClient(api.app)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return client


def test_api_tokens_are_only_for_service_accounts(api: Api) -> None:
    person = api.user_ids[OPERATOR]
    r = api.call("POST", f"/users/{person}/tokens", ADMIN, json={"name": "act as them"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_a_service_account"
    signed_in = _person_client(api, "operator", PASSWORD)
    r = signed_in.post("/api/v1/auth/me/tokens", json={"name": "mine"})
    assert r.status_code == 403
    r = api.call(
        "POST",
        "/users",
        ADMIN,
        json={"username": "van-7", "display_name": "Van 7", "role": "operator"},
    )
    assert r.status_code == 201 and r.json()["service_account"] is True
    r = api.call("POST", f"/users/{r.json()['id']}/tokens", ADMIN, json={"name": "uplink"})
    assert r.status_code == 201
    # A person cannot be given a password-less service account's powers either way.
    r = api.call(
        "POST",
        "/users",
        ADMIN,
        json={
            "username": "svc-x",
            "display_name": "X",
            "role": "operator",
            "service_account": True,
            "password": PASSWORD,
        },
    )
    assert r.status_code == 422


def test_an_admin_password_reset_is_temporary_and_ends_sessions_and_tokens(api: Api) -> None:
    person = api.user_ids[OPERATOR]
    owner = _person_client(api, "operator", PASSWORD)
    assert owner.get("/api/v1/alerts").status_code == 200
    # A token the account held from before tokens were refused to people.
    token, prefix, secret = new_api_token()
    with api.plane.database.session() as db:
        db.add(
            ApiToken(
                user_id=person,
                name="legacy",
                prefix=prefix,
                token_hash=digest(secret),
                created_at=api.plane.clock.now(),
            )
        )
    legacy = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/auth/me", headers=legacy).status_code == 401

    r = api.call("PATCH", f"/users/{person}", ADMIN, json={"password": NEW})
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    assert owner.get("/api/v1/alerts").status_code == 401  # the owner's session ended
    with api.plane.database.session() as db:
        row = db.execute(select(ApiToken).where(ApiToken.prefix == prefix)).scalar_one()
        assert row.revoked_at is not None
        assert not db.execute(select(LoginSession).where(LoginSession.user_id == person)).all()

    # Whoever knows the reset password gets no further than choosing a new one.
    admin_as_them = _person_client(api, "operator", NEW)
    r = admin_as_them.get("/api/v1/alerts")
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
    assert admin_as_them.get(f"/api/v1/alerts/{1}/crop").status_code == 403
    assert admin_as_them.get("/api/v1/auth/me").json()["must_change_password"] is True
    r = admin_as_them.post(
        "/api/v1/auth/me/password", json={"current_password": NEW, "new_password": MINE}
    )
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    assert admin_as_them.get("/api/v1/alerts").status_code == 200
    assert _person_client(api, "operator", MINE).get("/api/v1/alerts").status_code == 200


def test_every_audit_event_names_the_credential_that_acted(api: Api) -> None:
    owner = _person_client(api, "operator", PASSWORD)
    owner.get("/api/v1/alerts")
    api.call("GET", "/alerts", OPERATOR)
    with api.plane.database.session() as db:
        events = db.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        sessions = db.execute(select(LoginSession.id)).scalars().all()
        tokens = {t.id: t.user_id for t in db.execute(select(ApiToken)).scalars()}
    acted = [e for e in events if e.actor_user_id is not None]
    assert acted
    for e in acted:
        kind, _, number = (e.credential or "").partition(":")
        assert kind in ("session", "token"), (e.action, e.actor, e.credential)
        if kind == "token":
            assert e.actor.startswith("token:") and tokens[int(number)] == e.actor_user_id
        else:
            assert e.actor.startswith("user:") and int(number) in sessions
    login = next(e for e in acted if e.action == "auth.login")
    read = [e for e in acted if e.action == "alert.listed" and e.actor == "user:operator"]
    assert all(e.credential == login.credential for e in read)
    # The credential is part of the chain: the log still verifies.
    assert api.call("GET", "/audit/verify", Role.AUDITOR).json()["ok"] is True
