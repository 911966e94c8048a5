"""One error body everywhere, validation errors that name the field, pagination, OpenAPI."""

from __future__ import annotations

from openlfr.api.testing import Api
from openlfr.users.roles import Role


def _error(body: dict[str, object]) -> dict[str, object]:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "fields", "rejections"}
    return error


def test_not_found_and_method_not_allowed_share_the_body(api: Api) -> None:
    r = api.call("GET", "/deployments/424242", Role.AUDITOR)
    assert r.status_code == 404 and _error(r.json())["code"] == "not_found"
    r = api.call("GET", "/no/such/route", Role.AUDITOR)
    assert r.status_code == 404 and _error(r.json())["code"] == "not_found"
    r = api.call("PUT", "/deployments", Role.AUDITOR)
    assert r.status_code == 405 and _error(r.json())["code"] == "method_not_allowed"
    r = api.call("GET", "/deployments", None)
    assert r.status_code == 401 and _error(r.json())["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == "Bearer"


def test_validation_errors_say_which_field_and_why(api: Api) -> None:
    r = api.call("GET", "/audit/events", Role.AUDITOR, params={"limit": 0})
    error = _error(r.json())
    assert r.status_code == 422 and error["code"] == "validation_error"
    assert error["fields"] == [
        {"field": "query.limit", "message": "Input should be greater than or equal to 1"}
    ]
    r = api.call("GET", "/alerts/abc", Role.OPERATOR)
    assert _error(r.json())["fields"][0]["field"] == "path.alert_id"
    r = api.call("POST", "/watchlists", Role.WATCHLIST_MANAGER, json={"name": "../etc", "extra": 1})
    fields = {f["field"] for f in _error(r.json())["fields"]}  # type: ignore[index, union-attr]
    assert fields == {"body.name", "body.extra"}
    r = api.client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and _error(r.json())["code"] == "validation_error"


def test_lists_are_paginated(api: Api) -> None:
    for i in range(5):
        r = api.call("POST", "/watchlists", Role.WATCHLIST_MANAGER, json={"name": f"list-{i}"})
        assert r.status_code == 201
    page = api.call("GET", "/watchlists", Role.AUDITOR, params={"offset": 1, "limit": 2}).json()
    assert (page["total"], page["offset"], page["limit"]) == (5, 1, 2)
    assert [w["name"] for w in page["items"]] == ["list-1", "list-2"]
    named = api.call("GET", "/watchlists", Role.AUDITOR, params={"name": "list-3"}).json()
    assert named["total"] == 1
    r = api.call("GET", "/watchlists", Role.AUDITOR, params={"limit": 501})
    assert r.status_code == 422


def test_openapi_documents_every_route_and_the_error_body(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert "ErrorBody" in doc["components"]["schemas"]
    login = doc["paths"]["/api/v1/auth/login"]["post"]
    assert "401" in login["responses"]
    enrol = doc["paths"]["/api/v1/watchlists/{watchlist_id}/subjects"]["post"]
    assert "quality gate" in enrol["description"]
