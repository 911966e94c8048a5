"""Security headers on every response of the app, and documentation served from its own
files (issue #11, finding 11)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
import pytest

import openlfr.demokit
from openlfr.api.headers import CONTENT_SECURITY_POLICY
from openlfr.api.testing import Api
from openlfr.users.roles import Role

KIT = Path(openlfr.demokit.__file__).parent / "images"
MANAGER = Role.WATCHLIST_MANAGER
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _guarded(r: httpx.Response, *, cacheable: bool = False) -> None:
    h = r.headers
    assert h["content-security-policy"] == CONTENT_SECURITY_POLICY, r.request.url
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    if cacheable:
        assert "no-store" not in h.get("cache-control", ""), r.request.url
    else:
        assert h["cache-control"] == "no-store", r.request.url


def test_every_kind_of_response_carries_the_headers(api: Api) -> None:
    c = api.client
    _guarded(c.get("/api/v1/health"))
    _guarded(api.call("GET", "/deployments", Role.AUDITOR))
    _guarded(c.get("/api/v1/deployments"))  # 401
    _guarded(c.get("/api/v1/no/such/route"))  # 404
    _guarded(c.get("/api/v1/watchlists?name=%00"))  # 422 from the request checks
    _guarded(c.post("/api/v1/auth/login", content=b"x" * (2 * 1_048_576)))  # 413
    _guarded(c.get("/openapi.json"))
    _guarded(c.get("/console/login"))
    _guarded(c.get("/docs"))
    _guarded(c.get("/console/static/console.css"), cacheable=True)
    _guarded(c.get("/docs/assets/swagger-ui-bundle.js"), cacheable=True)


def test_personal_data_is_never_cached(api: Api) -> None:
    wl = api.call("POST", "/watchlists", MANAGER, json={"name": "headers"}).json()["id"]
    photo = sorted(KIT.glob("*.jpg"))[0]
    image = {"name": photo.name, "data": base64.b64encode(photo.read_bytes()).decode()}
    body = {"reference": "H-1", "category": "wanted_on_warrant", "image_source": "custody"}
    r = api.call("POST", f"/watchlists/{wl}/subjects", MANAGER, json=body | {"images": [image]})
    assert r.status_code == 201, r.text
    subject = r.json()
    _guarded(api.call("GET", f"/subjects/{subject['id']}", MANAGER))
    r = api.call("GET", f"/reference-images/{subject['images'][0]['id']}", MANAGER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
    _guarded(r)


def test_the_docs_page_loads_nothing_from_another_site(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "<script>" not in page.text  # no inline script: the CSP's script-src 'self' holds
    for url in urls:
        r = api.client.get(url)
        assert r.status_code == 200 and r.content, url
    assert "SwaggerUIBundle" in api.client.get("/docs/assets/swagger-ui-bundle.js").text
    assert api.client.get("/redoc").status_code == 404  # FastAPI's CDN-backed pages are off
    assert api.client.get("/docs/oauth2-redirect").status_code == 404
