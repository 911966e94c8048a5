"""Request bodies are limited per route before they are parsed or the caller authenticated
(issue #11, finding 10): an oversized anonymous request gets 413 without being read whole."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openlfr.api.testing import Api, serve_in_thread

MIB = 1_048_576
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _too_large(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["code"] == "body_too_large"
    assert set(error) == {"code", "message", "fields", "rejections"}


def test_a_declared_oversized_body_is_refused_before_authentication(api: Api) -> None:
    limit = api.plane.settings.http.max_body_bytes
    big = b"x" * (limit + 1)
    for path in ("/api/v1/auth/login", "/api/v1/watchlists", "/console/api/alerts/1/claim"):
        r = api.client.post(path, content=big, headers={"content-type": "application/json"})
        _too_large(r)  # not 401: the body is refused before anyone is identified
    r = api.client.post("/api/v1/auth/login", content=b"x" * limit)
    assert r.status_code == 422  # at the limit: read, and refused as not JSON


def test_routes_that_carry_images_take_larger_bodies(api: Api) -> None:
    settings = api.plane.settings.http
    assert settings.max_upload_bytes > 2 * settings.max_body_bytes
    photo = {"name": "p.jpg", "data": base64.b64encode(b"\xff" * settings.max_body_bytes).decode()}
    body = {"reference": "R-1", "category": "demo", "image_source": "custody", "images": [photo]}
    r = api.client.post("/api/v1/watchlists/1/subjects", json=body)
    assert r.status_code == 401  # past the JSON limit, within the upload one: read, then refused
    r = api.client.post("/api/v1/watchlists", json={"name": "x", "description": "d" * 2 * MIB})
    _too_large(r)
    r = api.client.post(
        "/api/v1/watchlists/1/subjects",
        content=b"x" * (settings.max_upload_bytes + 1),
        headers={"content-type": "application/json"},
    )
    _too_large(r)


class _Endless:
    """A chunked request body that would be ``total`` bytes; counts what was taken of it."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.chunk = b"{" + b" " * (chunk - 1)
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk


def test_a_streamed_oversized_body_is_cut_off_without_being_read_whole(api: Api) -> None:
    """A chunked body has no Content-Length: the server counts what arrives and stops at the
    limit; the rest of a would-be 1 GiB body is never sent."""
    body = _Endless(1024 * MIB)
    with serve_in_thread(api.app, lifespan=False) as base:
        headers: dict[str, Any] = {"content-type": "application/json"}
        r = httpx.post(f"{base}/api/v1/auth/login", content=body, headers=headers, timeout=60)
    _too_large(r)
    limit = api.plane.settings.http.max_body_bytes
    # What was taken: the limit, plus what the sockets' buffers held when the server stopped.
    assert limit < body.sent < 64 * MIB, body.sent
