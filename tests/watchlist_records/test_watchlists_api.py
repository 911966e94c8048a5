"""Watchlists over the API: enrolment behind the core's quality gate, freezing, versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.api.testing import EXAMPLES, Api, b64_image, live_scenario
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.users.roles import Role
from openlfr.watchlist.rejections import ImageRejected
from openlfr.watchlist_records.models import ReferenceImage, Subject

MANAGER = Role.WATCHLIST_MANAGER


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def _watchlist(api: Api, name: str = "westfield") -> int:
    r = api.call("POST", "/watchlists", MANAGER, json={"name": name, "description": "test"})
    assert r.status_code == 201, r.text
    assert r.json()["model_id"] == api.plane.services.pack.model_id
    return int(r.json()["id"])


def _enrol(api: Api, wl: int, reference: str, *files: Path, **extra: object) -> object:
    body = {
        "reference": reference,
        "category": "wanted_on_warrant",
        "image_source": "custody",
        "images": [b64_image(f) for f in files],
        **extra,
    }
    return api.call("POST", f"/watchlists/{wl}/subjects", MANAGER, json=body)


def test_enrol_stores_sealed_image_and_template(api: Api, photos: Path) -> None:
    wl = _watchlist(api)
    r = _enrol(api, wl, "WL-1", photos / "obama_01.jpg", photos / "obama_02.jpg")
    assert r.status_code == 201, r.text
    subject = r.json()
    assert [i["source_name"] for i in subject["images"]] == ["obama_01.jpg", "obama_02.jpg"]
    assert all(i["inter_eye_px"] > 28 for i in subject["images"])
    image_id = subject["images"][0]["id"]
    got = api.call("GET", f"/reference-images/{image_id}", Role.OPERATOR)
    assert got.status_code == 200
    assert got.content == (photos / "obama_01.jpg").read_bytes()
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["cache-control"] == "no-store"
    with api.plane.database.session() as s:
        assert audit.count_events(s, action=Action.REFERENCE_IMAGE_VIEWED) == 1
        assert audit.count_events(s, action=Action.SUBJECT_ENROLLED) == 1


def test_rejections_are_the_core_gates_and_nothing_is_stored(api: Api, photos: Path) -> None:
    wl = _watchlist(api)
    several = photos / "multi_obama_biden_01.jpg"
    good = photos / "biden_01.jpg"
    r = api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        MANAGER,
        json={
            "reference": "WL-2",
            "category": "wanted_on_warrant",
            "image_source": "custody",
            "images": [
                b64_image(good),
                b64_image(several),
                {"name": "notes.txt", "data": "aGVsbG8gd29ybGQ="},
            ],
        },
    )
    assert r.status_code == 422, r.text
    body = r.json()["error"]
    assert body["code"] == "enrolment_rejected"
    gate = api.plane.services.quality_gate
    expected = []
    for path, data in ((several, several.read_bytes()), (Path("notes.txt"), b"hello world")):
        with pytest.raises(ImageRejected) as exc:
            gate.template_for(data, path.name)
        expected.append(
            {"image": path.name, "reason": str(exc.value.reason), "message": exc.value.message}
        )
    assert body["rejections"] == expected
    with api.plane.database.session() as s:
        assert s.execute(select(func.count()).select_from(Subject)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(ReferenceImage)).scalar_one() == 0
        # The refusal itself is on the record.
        assert audit.count_events(s, action=Action.SUBJECT_ENROLMENT_REJECTED) == 1
    assert list(api.plane.blobs.stored()) == []


def test_policy_fields_are_checked(api: Api, photos: Path) -> None:
    wl = _watchlist(api)
    r = _enrol(api, wl, "WL-3", photos / "biden_01.jpg", category="looked_suspicious")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "body.category"
    r = _enrol(api, wl, "WL-3", photos / "biden_01.jpg", expires_at="2020-01-01T00:00:00Z")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "body.expires_at"
    assert _enrol(api, wl, "WL-3", photos / "biden_01.jpg").status_code == 201
    r = _enrol(api, wl, "WL-3", photos / "biden_02.jpg")
    assert r.status_code == 409 and r.json()["error"]["code"] == "subject_exists"


def test_a_watchlist_in_use_is_frozen_and_changes_go_into_a_new_version(
    api: Api, photos: Path
) -> None:
    scenario = live_scenario(api, [photos / "obama_01.jpg"])
    wl = scenario.watchlist_id
    r = _enrol(api, wl, "WL-9", photos / "biden_01.jpg")
    assert r.status_code == 409 and r.json()["error"]["code"] == "watchlist_frozen"
    r = api.call("DELETE", f"/subjects/{scenario.subject_id}", MANAGER)
    assert r.status_code == 409
    frozen = api.call("GET", f"/watchlists/{wl}", MANAGER).json()
    assert frozen["state"] == "frozen" and len(frozen["content_digest"]) == 64
    r = api.call("POST", f"/watchlists/{wl}/versions", MANAGER)
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["name"], v2["version"], v2["state"]) == (frozen["name"], 2, "open")
    assert v2["subject_count"] == 1 and v2["image_count"] == 1
    assert _enrol(api, v2["id"], "WL-9", photos / "biden_01.jpg").status_code == 201
    # The copy's photo is its own sealed blob, and still the same photo.
    subjects = api.call("GET", f"/watchlists/{v2['id']}/subjects", MANAGER).json()
    copied = next(s for s in subjects if s["reference"] == "WL-0001")["images"][0]["id"]
    got = api.call("GET", f"/reference-images/{copied}", MANAGER)
    assert got.content == (photos / "obama_01.jpg").read_bytes()
    # A second deployment cannot reuse the first one's watchlist version.
    r = api.call(
        "PATCH", f"/deployments/{scenario.deployment_id}", Role.AUTHORISING_OFFICER, json={}
    )
    assert r.status_code == 409
