"""Sign-in: throttling with growing delays instead of lockout, the password policy, and the
session cookie's Secure flag."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from openlfr.api.testing import FAST_AUTH, PASSWORD, Api, build_api, serve_in_thread, test_settings
from openlfr.config.server import AuthConfig
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database
from openlfr.storage.testing import ManualClock
from openlfr.users import totp
from openlfr.users.roles import Role
from openlfr.users.throttle import LoginThrottle


def _from(api: Api, address: str) -> TestClient:
    return TestClient(api.app, client=(address, 40000))


def _login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_failures_slow_one_address_down_and_lock_nobody_out(api: Api) -> None:
    attacker, owner = _from(api, "203.0.113.9"), _from(api, "198.51.100.20")
    for _ in range(5):
        assert _login(attacker, "admin", "not the password").status_code == 401
    # The attacker now waits, even with the right password (nothing is checked)...
    r = _login(attacker, "admin")
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # ...but the account is not locked: its owner signs in from their own address.
    assert _login(owner, "admin").status_code == 200
    # Spraying many accounts from one address is slowed down too.
    sprayer = _from(api, "203.0.113.77")
    codes = [_login(sprayer, f"user{i}", "guess-guess-guess").status_code for i in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429
    assert _login(sprayer, "auditor").status_code == 429
    assert _login(_from(api, "192.0.2.1"), "auditor").status_code == 200


def test_the_wait_grows_with_the_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: now[0])
    monkeypatch.setattr("openlfr.users.throttle.time.time", lambda: now[0])
    throttle = LoginThrottle(AuthConfig())
    waits, failures = [], 0
    while failures < 50:  # an attacker failing again as soon as allowed
        while throttle.wait_s("admin", "203.0.113.9") == 0:
            throttle.failed("admin", "203.0.113.9")
            failures += 1
        waits.append(throttle.wait_s("admin", "203.0.113.9"))
        now[0] += waits[-1]
    # 5 tries, then a minute; 5 more, then most of 15 minutes; the hour and the day next.
    assert waits[0] <= 60 < waits[1] <= 15 * 60
    assert max(waits) > 3600 and waits[-1] == max(waits)
    assert sum(waits) > 20 * 3600  # 50 guesses take most of a day
    throttle.succeeded("admin", "203.0.113.9")
    assert throttle.wait_s("admin", "203.0.113.9") == 0


@pytest.mark.parametrize(
    "password",
    [
        "            ",
        "password1234",
        "aaaaaaaaaaaaaaaa",
        "qwertyuiop123",
        "jsmith123456",
        "jsmithjsmith",
        "Password1!",
    ],
)
def test_common_and_trivial_passwords_are_refused(api: Api, password: str) -> None:
    body = {"username": "jsmith", "display_name": "J Smith", "role": "operator"}
    r = api.call("POST", "/users", Role.ADMIN, json={**body, "password": password})
    assert r.status_code == 422, password
    r = api.call("POST", "/users", Role.ADMIN, json={**body, "password": "plum orbit velvet 1987!"})
    assert r.status_code == 201
    uid = r.json()["id"]
    r = api.call("PATCH", f"/users/{uid}", Role.ADMIN, json={"password": "password12345"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.password"


@pytest.fixture
def auto_cookie(tmp_path: Path, database: Database, clock: Clock) -> Iterator[Api]:
    auth = FAST_AUTH.model_copy(update={"cookie_secure": None})
    yield from build_api(test_settings(tmp_path / "home", database, auth=auth), clock)


def test_the_cookie_is_secure_unless_served_on_loopback(auto_cookie: Api) -> None:
    r = _login(_from(auto_cookie, "198.51.100.20"), "operator")  # Host: testserver
    assert r.status_code == 200 and "secure" in r.headers["set-cookie"].lower()
    with serve_in_thread(auto_cookie.app, lifespan=False) as base:
        r = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}
        )
    assert r.status_code == 200 and "secure" not in r.headers["set-cookie"].lower()


@pytest.fixture
def two_factor(tmp_path: Path, database: Database, clock: Clock) -> Iterator[Api]:
    auth = FAST_AUTH.model_copy(update={"totp_required_roles": AuthConfig().totp_required_roles})
    yield from build_api(test_settings(tmp_path / "home", database, auth=auth), clock)


def _with_code(client: TestClient, username: str, code: str) -> int:
    body = {"username": username, "password": PASSWORD, "totp": code}
    return client.post("/api/v1/auth/login", json=body).status_code


def test_officers_sign_in_with_a_totp_code_and_operators_may(two_factor: Api) -> None:
    api, clock = two_factor, two_factor.plane.clock
    assert isinstance(clock, ManualClock)
    officer = _from(api, "198.51.100.5")
    assert _login(officer, "authorising-officer").status_code == 200
    r = officer.get("/api/v1/deployments")  # nothing but enrolment until a code is set up
    assert r.status_code == 403 and r.json()["error"]["code"] == "totp_enrolment_required"
    enrolment = officer.post("/api/v1/auth/me/totp").json()
    assert enrolment["uri"].startswith("otpauth://totp/openlfr:authorising-officer?")
    assert enrolment["qr_svg_data_uri"].startswith("data:image/svg+xml")
    secret = enrolment["secret"]
    code = totp.code_now(secret, now=clock.now())
    wrong = "000000" if code != "000000" else "111111"
    assert officer.post("/api/v1/auth/me/totp/confirm", json={"code": wrong}).status_code == 422
    assert officer.post("/api/v1/auth/me/totp/confirm", json={"code": code}).status_code == 200
    assert officer.get("/api/v1/deployments").status_code == 200
    with api.plane.database.session() as db:  # the secret is sealed at rest
        assert secret.encode() not in repr(db.execute(text("SELECT * FROM users")).all()).encode()

    fresh = _from(api, "198.51.100.6")
    assert _login(fresh, "authorising-officer").status_code == 401  # password alone
    assert _with_code(fresh, "authorising-officer", code) == 401  # a used code
    clock.advance(seconds=30)
    assert _with_code(fresh, "authorising-officer", totp.code_now(secret, now=clock.now())) == 200
    clock.advance(seconds=30)
    r = fresh.post(
        "/api/v1/auth/me/totp/remove", json={"code": totp.code_now(secret, now=clock.now())}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "totp_required_for_role"
    # An admin resets it (a lost phone): the officer enrols again at the next sign-in.
    r = api.call(
        "PATCH",
        f"/users/{api.user_ids[Role.AUTHORISING_OFFICER]}",
        Role.ADMIN,
        json={"reset_totp": True},
    )
    assert r.status_code == 200 and r.json()["totp_enabled"] is False
    assert fresh.get("/api/v1/deployments").status_code == 401

    # Operators sign in with the password alone, and may choose a code.
    operator = _from(api, "198.51.100.7")
    assert _login(operator, "operator").status_code == 200
    assert operator.get("/api/v1/alerts").status_code == 200
    mine = operator.post("/api/v1/auth/me/totp").json()["secret"]
    r = operator.post(
        "/api/v1/auth/me/totp/confirm", json={"code": totp.code_now(mine, now=clock.now())}
    )
    assert r.status_code == 200 and r.json()["totp_enabled"] is True
    assert _login(_from(api, "198.51.100.8"), "operator").status_code == 401
