"""Every crafted or damaged image, through every route that accepts images: a clear 422."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from image_corpus import CORPUS, KIT

from openlfr.api.testing import Api
from openlfr.users.roles import Role

MANAGER = Role.WATCHLIST_MANAGER
# Routes that take image files, and how to build a request body around them.
UPLOADS = {
    ("POST", "/api/v1/watchlists/{watchlist_id}/subjects"): lambda images: {
        "reference": "C-0001",
        "category": "wanted_on_warrant",
        "image_source": "custody",
        "images": images,
    },
    ("POST", "/api/v1/subjects/{subject_id}/images"): lambda images: {
        "image_source": "custody",
        "images": images,
    },
}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _takes_images(doc: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> bool:
    for name in _refs(schema) - seen:
        seen.add(name)
        if name == "ImageData" or _takes_images(doc, doc["components"]["schemas"][name], seen):
            return True
    return False


@pytest.fixture(scope="module")
def targets(shared_api: Api) -> dict[str, str]:
    """A watchlist and a subject (enrolled from a real photo) to send images to."""
    r = shared_api.call("POST", "/watchlists", MANAGER, json={"name": "corpus"})
    assert r.status_code == 201, r.text
    wl = r.json()["id"]
    photo = sorted(KIT.glob("*.jpg"))[0]
    good = [{"name": photo.name, "data": base64.b64encode(photo.read_bytes()).decode()}]
    r = shared_api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        MANAGER,
        json=UPLOADS[("POST", "/api/v1/watchlists/{watchlist_id}/subjects")](good)
        | {"reference": "C-0000"},
    )
    assert r.status_code == 201, r.text
    return {"watchlist_id": str(wl), "subject_id": str(r.json()["id"])}


def test_every_image_route_is_in_the_corpus_test(shared_api: Api) -> None:
    doc = shared_api.client.get("/openapi.json").json()
    found = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if _takes_images(doc, op.get("requestBody", {}), set())
    }
    assert found == set(UPLOADS)


@pytest.mark.parametrize("route", sorted(UPLOADS), ids=lambda r: r[1])
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_crafted_image_is_refused_clearly(
    shared_api: Api, targets: dict[str, str], route: tuple[str, str], name: str
) -> None:
    method, path = route
    data = base64.b64encode(CORPUS[name]()).decode()
    body = UPLOADS[route]([{"name": name, "data": data}])
    r = shared_api.client.request(
        method, path.format(**targets), json=body, headers=shared_api.headers(MANAGER)
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["code"] == "enrolment_rejected"
    [rejection] = error["rejections"]
    assert rejection["image"] == name
    assert rejection["reason"] in {
        "not_an_image",
        "unsupported_format",
        "corrupt",
        "too_large_pixels",
        "too_large_bytes",
        "no_face",
    }
    assert rejection["message"]
