"""The permission matrix: every route × every role (and no credentials), from the route table.

A route added without a declared permission makes ``create_app`` fail, and a
route whose declaration disagrees with the role table fails here. The route
table is checked against the OpenAPI document, so no operation escapes it.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from openlfr.api.app import _check_permissions_declared, route_table
from openlfr.api.testing import Api, serve_in_thread
from openlfr.users.roles import ROLE_PERMISSIONS, Permission, Role

PRINCIPALS: list[Role | None] = [None, *Role]
DUMMY_ID = "987654"


def _expected(permission: Permission | None, role: Role | None) -> str:
    if permission is None:
        return "allow"
    if role is None:
        return "unauthenticated"
    return "allow" if permission in ROLE_PERMISSIONS[role] else "forbidden"


def _outcome(status: int) -> str:
    return {401: "unauthenticated", 403: "forbidden"}.get(status, "allow")


def test_route_table_covers_every_documented_operation(api: Api) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
    }
    table = {(r.method, r.path) for r in route_table(api.app)}
    assert documented == table
    assert len(table) >= 40
    assert all(r.requirement is not None for r in route_table(api.app))


def test_a_route_without_a_declared_permission_is_refused() -> None:
    app = FastAPI()

    @app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="GET /forgotten"):
        _check_permissions_declared(app)


def test_role_table_keeps_duties_apart() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert [r for r in Role if Permission.ALERTS_ADJUDICATE in ROLE_PERMISSIONS[r]] == [
        Role.OPERATOR
    ]
    assert [r for r in Role if Permission.DEPLOYMENTS_AUTHORISE in ROLE_PERMISSIONS[r]] == [
        Role.AUTHORISING_OFFICER
    ]
    for face in (Permission.ALERT_CROPS_VIEW, Permission.REFERENCE_IMAGES_VIEW):
        assert face not in ROLE_PERMISSIONS[Role.ADMIN]
        assert face not in ROLE_PERMISSIONS[Role.AUDITOR]


def test_permission_matrix(api: Api) -> None:
    """Each operation is called by each principal; the answer must match the role table."""
    mismatches: list[str] = []
    streams: list[tuple[str, Role | None, str]] = []
    checked = 0
    for op in route_table(api.app):
        assert op.requirement is not None
        path = re.sub(r"\{[^}]+\}", DUMMY_ID, op.path)
        for role in PRINCIPALS:
            expected = _expected(op.requirement.permission, role)
            if op.route.response_class is StreamingResponse:
                streams.append((path, role, expected))
                continue
            body = {"json": {}} if op.method in {"POST", "PATCH", "PUT"} else {}
            response = api.client.request(op.method, path, headers=api.headers(role), **body)
            checked += 1
            if _outcome(response.status_code) != expected:
                mismatches.append(
                    f"{op.method} {op.path} as {role}: expected {expected}, got "
                    f"{response.status_code} {response.text[:120]}"
                )
    # Streams never end by themselves: open each on a real server, read the status, close.
    with serve_in_thread(api.app, lifespan=False) as base:
        for path, role, expected in streams:
            with httpx.stream("GET", base + path, headers=api.headers(role), timeout=10) as r:
                checked += 1
                if _outcome(r.status_code) != expected:
                    mismatches.append(
                        f"GET {path} as {role}: expected {expected}, got {r.status_code}"
                    )
    assert streams, "the alert stream must be in the matrix"
    assert checked == len(route_table(api.app)) * len(PRINCIPALS)
    assert mismatches == []
