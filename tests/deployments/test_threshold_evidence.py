"""The evidence rule: a deployment goes live only on a threshold a stored calibration backs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from openlfr.api.testing import EXAMPLES, Api, b64_image, test_calibration_document
from openlfr.evaluation.evidence import document_sha256
from openlfr.reports.record import build_record
from openlfr.storage.context import Actor
from openlfr.users.roles import Role

OFFICER, OPERATOR, MANAGER = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.WATCHLIST_MANAGER
REASON = "Pilot at a fixed site; the force's own calibration is scheduled for next month"


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def _ready(api: Api, photos: Path, *, subjects: int = 1, **plan: Any) -> int:
    """A draft with a watchlist of ``subjects`` people and a camera: only evidence missing."""
    wl = api.call("POST", "/watchlists", MANAGER, json={"name": f"wl-{subjects}"}).json()["id"]
    for i, photo in enumerate(["obama_01.jpg", "biden_01.jpg"][:subjects]):
        r = api.call(
            "POST",
            f"/watchlists/{wl}/subjects",
            MANAGER,
            json={
                "reference": f"WL-{i}",
                "category": "wanted_on_warrant",
                "image_source": "custody",
                "images": [b64_image(photos / photo)],
            },
        )
        assert r.status_code == 201, r.text
    now = api.plane.clock.now()
    body = {
        "name": "Saturday market",
        "location": "Market Square",
        "purpose": "locate people wanted on warrant",
        "legal_basis": "force LFR policy v3",
        "planned_start": now.isoformat(),
        "planned_end": (now + timedelta(hours=6)).isoformat(),
        "watchlist_id": wl,
        "cameras": [{"name": "cam-1", "source": "/dev/null"}],
        **plan,
    }
    r = api.call("POST", "/deployments", MANAGER, json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _authorise(api: Api, dep: int) -> Any:
    return api.call("POST", f"/deployments/{dep}/authorise", OFFICER, json={"note": "ok"})


def _refusal(r: Any) -> str:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "threshold_unbacked"
    return str(error["message"])


def test_without_a_calibration_it_cannot_be_authorised(api: Api, photos: Path) -> None:
    dep = _ready(api, photos)
    message = _refusal(_authorise(api, dep))
    assert "no stored calibration backs threshold 0.520 for model sface-2021dec+flip" in message
    assert "evidence-override" in message
    assert api.call("GET", f"/deployments/{dep}", OFFICER).json()["state"] == "draft"


@pytest.mark.parametrize(
    ("document", "threshold", "subjects", "why"),
    [
        ({"model_id": "dlib-resnet-v1"}, 0.55, 1, "measured with model dlib-resnet-v1"),
        ({"threshold": 0.60}, 0.55, 1, "threshold 0.550 is below the calibrated 0.600"),
        ({"watchlist_size": 1}, 0.55, 2, "the watchlist has 2 subjects but the calibration"),
    ],
)
def test_a_calibration_that_does_not_back_the_threshold_is_refused(
    api: Api,
    photos: Path,
    document: dict[str, Any],
    threshold: float,
    subjects: int,
    why: str,
) -> None:
    calibration = api.calibration(**document)
    dep = _ready(api, photos, subjects=subjects, calibration_id=calibration, threshold=threshold)
    assert why in _refusal(_authorise(api, dep))


def test_a_backing_calibration_is_cited_by_id_and_hash_everywhere(api: Api, photos: Path) -> None:
    document = test_calibration_document(threshold=0.50)
    r = api.call("POST", "/calibrations", OFFICER, json={"document": document, "note": "lfw"})
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["sha256"] == document_sha256(document)
    # The same document again is the same evidence, not a second record.
    again = api.call("POST", "/calibrations", OFFICER, json={"document": document}).json()
    assert again["id"] == stored["id"]
    dep = _ready(api, photos, calibration_id=stored["id"])
    assert _authorise(api, dep).status_code == 200
    r = api.call("POST", f"/deployments/{dep}/start", OPERATOR)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert (shown["calibration_id"], shown["calibration_sha256"]) == (
        stored["id"],
        stored["sha256"],
    )
    events = api.call(
        "GET", "/audit/events", Role.AUDITOR, params={"action": "deployment.started"}
    ).json()["items"]
    assert events[-1]["details"]["calibration_sha256"] == stored["sha256"]
    with api.plane.work(Actor.system("test")) as ctx:
        record = build_record(ctx.db, dep, now=ctx.now)
    evidence = record.threshold_evidence
    assert evidence.calibration_id == stored["id"]
    assert evidence.calibration_sha256 == document_sha256(document)
    assert evidence.model_id == "sface-2021dec+flip" and evidence.calibrated_threshold == 0.50
    # Lowering the live threshold below the calibrated one is refused and changes nothing.
    path = f"/deployments/{dep}/threshold"
    r = api.call("POST", path, OFFICER, json={"threshold": 0.45, "reason": REASON})
    assert "below the calibrated 0.500" in _refusal(r)
    assert api.call("GET", f"/deployments/{dep}", OFFICER).json()["threshold"] == 0.52
    assert api.launcher.sessions[dep].threshold == 0.52
    r = api.call("POST", path, OFFICER, json={"threshold": 0.60, "reason": REASON})
    assert r.status_code == 200, r.text


def test_an_override_needs_a_reason_is_audited_and_published(api: Api, photos: Path) -> None:
    dep = _ready(api, photos)
    path = f"/deployments/{dep}/evidence-override"
    r = api.call("POST", path, OPERATOR, json={"reason": REASON})
    assert r.status_code == 403
    r = api.call("POST", path, OFFICER, json={"reason": "because"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.reason"
    r = api.call("POST", path, OFFICER, json={"reason": REASON})
    assert r.status_code == 200, r.text
    assert r.json()["evidence_override"] == REASON
    assert r.json()["evidence_override_threshold"] == 0.52
    assert _authorise(api, dep).status_code == 200
    assert api.call("POST", f"/deployments/{dep}/start", OPERATOR).status_code == 200
    events = api.call(
        "GET", "/audit/events", Role.AUDITOR, params={"action": "deployment.evidence_overridden"}
    ).json()["items"]
    assert len(events) == 1
    details = events[0]["details"]
    assert details["reason"] == REASON and "no stored calibration" in details["unbacked_because"]
    started = api.call(
        "GET", "/audit/events", Role.AUDITOR, params={"action": "deployment.started"}
    ).json()["items"][-1]["details"]
    assert started["evidence_override"] == REASON
    with api.plane.work(Actor.system("test")) as ctx:
        record = build_record(ctx.db, dep, now=ctx.now)
    assert record.threshold_evidence.override_reason == REASON
    assert record.threshold_evidence.calibration_id is None
    # The override covers its threshold and higher ones, not a lower one.
    change = f"/deployments/{dep}/threshold"
    r = api.call("POST", change, OFFICER, json={"threshold": 0.50, "reason": REASON})
    assert "no stored calibration" in _refusal(r)
    r = api.call("POST", change, OFFICER, json={"threshold": 0.60, "reason": REASON})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"format": "something-else"}, "not a calibration document"),
        ({"threshold": None}, "backs none"),
        ({"threshold": 7.0}, "out-of-range"),
        ({"model_id": None}, "out-of-range"),
    ],
)
def test_a_bad_calibration_document_is_refused(api: Api, change: dict[str, Any], why: str) -> None:
    document = {**test_calibration_document(), **change}
    if change.get("model_id", "") is None:
        document["model_id"] = ""
    r = api.call("POST", "/calibrations", OFFICER, json={"document": document})
    assert r.status_code == 422, r.text
    assert why in r.json()["error"]["message"]
    assert api.call("GET", "/calibrations", OFFICER).json() == []
