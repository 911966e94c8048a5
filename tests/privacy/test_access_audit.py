"""Invariant 5: every access to or change of biometric data, watchlists, thresholds and
alerts leaves an audit event naming who did it, and the chain still verifies."""

from __future__ import annotations

from pathlib import Path

from openlfr.api.testing import EXAMPLES, Api, alert_input, b64_image, live_scenario, probe_crop
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.users.roles import Role

M, AO, A, OP = Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER, Role.AUDITOR, Role.OPERATOR


def _last(api: Api) -> tuple[int, str, str]:
    with api.plane.database.session() as s:
        rows, total = audit.list_events(s, offset=0, limit=1_000_000)
        last = rows[-1]
        return total, last.action, last.actor


def test_each_access_and_change_is_audited(api: Api, shared_data: Path) -> None:
    photos = shared_data / EXAMPLES
    s = live_scenario(api, [photos / "obama_01.jpg"])
    with api.plane.database.session() as db:
        # Starting decrypted the templates: that is an access too.
        assert audit.count_events(db, action=Action.TEMPLATES_LOADED, deployment_id=s.deployment_id)
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    alert = api.plane.recorder.record(alert_input(s.deployment_id, s.camera, s.subject_id, crop))
    image_id = api.call("GET", f"/subjects/{s.subject_id}", M).json()["images"][0]["id"]
    v2 = api.call("POST", f"/watchlists/{s.watchlist_id}/versions", M).json()["id"]

    steps = [
        ("GET", f"/reference-images/{image_id}", OP, None, Action.REFERENCE_IMAGE_VIEWED),
        ("GET", f"/watchlists/{s.watchlist_id}/subjects", A, None, Action.WATCHLIST_READ),
        ("GET", f"/subjects/{s.subject_id}", M, None, Action.WATCHLIST_READ),
        ("GET", f"/alerts/{alert.id}", A, None, Action.ALERT_READ),
        ("GET", "/alerts", OP, None, Action.ALERTS_LISTED),
        ("GET", f"/alerts/{alert.id}/crop", OP, None, Action.ALERT_CROP_VIEWED),
        (
            "POST",
            f"/watchlists/{v2}/subjects",
            M,
            {
                "reference": "WL-7",
                "category": "wanted_by_court",
                "image_source": "custody",
                "images": [b64_image(photos / "biden_01.jpg")],
            },
            Action.SUBJECT_ENROLLED,
        ),
        (
            "POST",
            f"/deployments/{s.deployment_id}/threshold",
            AO,
            {"threshold": 0.55, "reason": "reduce false alerts in crowd"},
            Action.THRESHOLD_CHANGED,
        ),
        (
            "POST",
            f"/alerts/{alert.id}/adjudication",
            OP,
            {"decision": "not_engaged"},
            Action.ALERT_ADJUDICATED,
        ),
        (
            "POST",
            f"/alerts/{alert.id}/hold",
            AO,
            {"hold": True, "reason": "subject access request pending"},
            Action.ALERT_HOLD_SET,
        ),
    ]
    for method, path, role, body, action in steps:
        before, _, _ = _last(api)
        r = api.call(method, path, role, **({"json": body} if body else {}))
        assert r.status_code < 300, (path, r.text)
        after, _, _ = _last(api)
        assert after > before, path
        with api.plane.database.session() as db:
            rows, _ = audit.list_events(db, offset=before, limit=after - before)
        assert action in {e.action for e in rows}, (path, [e.action for e in rows])
        assert all(
            e.actor == f"token:{role.value.replace('_', '-')}-svc"
            for e in rows
            if e.action == action
        )
    with api.plane.database.session() as db:
        assert audit.verify(db).ok


def test_refused_requests_change_nothing_in_the_log(api: Api) -> None:
    before, _, _ = _last(api)
    assert api.call("GET", "/alerts/1/crop", A).status_code == 403
    assert api.call("GET", "/reference-images/1", None).status_code == 401
    assert _last(api)[0] == before
