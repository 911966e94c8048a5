"""Live alert streams end within seconds of logout, token revocation or disabling the account."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from openlfr.api.testing import FAST_AUTH, PASSWORD, Api, build_api, serve_in_thread, test_settings
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database
from openlfr.users.roles import Role

RECHECK_S = 0.2
ENDS_WITHIN_S = 30.0  # generous for a busy machine; the stream re-checks every 0.2 s


@pytest.fixture
def api(tmp_path: Path, database: Database, clock: Clock) -> Iterator[Api]:
    auth = FAST_AUTH.model_copy(update={"stream_recheck_s": RECHECK_S})
    yield from build_api(test_settings(tmp_path / "home", database, auth=auth), clock)


class Stream:
    """Reads an event stream in a thread; ``ended`` is set when the server closes it."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        self.opened = threading.Event()
        self.ended = threading.Event()
        self.status = 0
        threading.Thread(target=self._read, args=(client, path, headers), daemon=True).start()
        assert self.opened.wait(30), "the stream did not open"

    def _read(self, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        try:
            with client.stream("GET", path, headers=headers, timeout=None) as response:
                self.status = response.status_code
                self.opened.set()
                for _ in response.iter_lines():
                    pass
        except httpx.HTTPError:
            pass  # the server went away at the end of the test
        finally:
            self.opened.set()
            self.ended.set()


def _session(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


def _revoke_token(api: Api, client: httpx.Client) -> None:
    uid = api.service_ids[Role.OPERATOR]
    (token,) = api.call("GET", f"/users/{uid}/tokens", Role.ADMIN).json()
    r = api.call("DELETE", f"/users/{uid}/tokens/{token['id']}", Role.ADMIN)
    assert r.status_code == 200


def _logout(api: Api, client: httpx.Client) -> None:
    assert client.post("/api/v1/auth/logout").status_code == 204


def _disable(api: Api, client: httpx.Client) -> None:
    uid = api.user_ids[Role.OPERATOR]
    assert api.call("PATCH", f"/users/{uid}", Role.ADMIN, json={"active": False}).status_code == 200


def _reset_password(api: Api, client: httpx.Client) -> None:
    uid = api.user_ids[Role.OPERATOR]
    body = {"password": "granite meadow lantern 44"}
    assert api.call("PATCH", f"/users/{uid}", Role.ADMIN, json=body).status_code == 200


@pytest.mark.parametrize(
    ("path", "ending"),
    [
        ("/api/v1/alerts/stream", _revoke_token),
        ("/api/v1/alerts/stream", _logout),
        ("/api/v1/alerts/stream", _disable),
        ("/api/v1/alerts/stream", _reset_password),
        ("/console/api/events", _logout),
        ("/console/api/events", _disable),
    ],
    ids=[
        "api-token-revoked",
        "api-logout",
        "api-disabled",
        "api-reset",
        "console-logout",
        "console-disabled",
    ],
)
def test_the_stream_ends_when_its_credential_does(
    api: Api, path: str, ending: Callable[[Api, httpx.Client], None]
) -> None:
    with serve_in_thread(api.app, lifespan=False) as base:
        by_token = ending is _revoke_token
        client = httpx.Client(base_url=base) if by_token else _session(base, "operator")
        headers = api.headers(Role.OPERATOR) if by_token else {}
        other = (
            Stream(httpx.Client(base_url=base), path, api.headers(Role.AUDITOR))
            if (path.startswith("/api/"))
            else None
        )
        stream = Stream(client, path, headers)
        assert stream.status == 200
        # Open, and staying open over several re-checks while the credential stands.
        assert not stream.ended.wait(RECHECK_S * 5)
        ending(api, client)
        assert stream.ended.wait(ENDS_WITHIN_S), "the stream outlived its credential"
        if other is not None:  # someone else's stream is not affected
            assert not other.ended.is_set()
