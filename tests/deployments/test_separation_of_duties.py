"""Separation of duties: the authoriser is not the planner; closing is for commanders and
officers, not operators."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from openlfr.api.testing import EXAMPLES, Api, b64_image, build_api, live_scenario, test_settings
from openlfr.config.server import GovernanceConfig
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database
from openlfr.users.roles import Role

OFFICER, OPERATOR, MANAGER = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.WATCHLIST_MANAGER


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def _ready_draft(api: Api, photos: Path, planner: Role) -> int:
    name = f"wl-{len(api.call('GET', '/watchlists', MANAGER).json()['items'])}"
    r = api.call("POST", "/watchlists", MANAGER, json={"name": name})
    assert r.status_code == 201, r.text
    wl = r.json()["id"]
    r = api.call(
        "POST",
        f"/watchlists/{wl}/subjects",
        MANAGER,
        json={
            "reference": "WL-1",
            "category": "wanted_on_warrant",
            "image_source": "custody",
            "images": [b64_image(photos / "obama_01.jpg")],
        },
    )
    assert r.status_code == 201, r.text
    now = api.plane.clock.now()
    r = api.call(
        "POST",
        "/deployments",
        planner,
        json={
            "name": "Market",
            "location": "Market Square",
            "purpose": "locate people wanted on warrant",
            "legal_basis": "force LFR policy v3",
            "planned_start": now.isoformat(),
            "planned_end": (now + timedelta(hours=4)).isoformat(),
            "watchlist_id": wl,
            "calibration_id": api.calibration(),
            "cameras": [{"name": "c1", "source": "/dev/null"}],
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_planner_cannot_authorise_their_own_deployment(api: Api, photos: Path) -> None:
    own = _ready_draft(api, photos, OFFICER)
    r = api.call("POST", f"/deployments/{own}/authorise", OFFICER, json={"note": "mine"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "same_planner"
    # Editing another's draft also makes the officer one of its planners.
    edited = _ready_draft(api, photos, MANAGER)
    r = api.call("PATCH", f"/deployments/{edited}", OFFICER, json={"name": "Market, north"})
    assert r.status_code == 200
    r = api.call("POST", f"/deployments/{edited}/authorise", OFFICER, json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "same_planner"
    # Planned by someone else and untouched: the officer authorises.
    other = _ready_draft(api, photos, MANAGER)
    r = api.call("POST", f"/deployments/{other}/authorise", OFFICER, json={"note": "necessary"})
    assert r.status_code == 200 and r.json()["state"] == "authorised"


def test_the_rule_is_a_setting(
    tmp_path: Path, database: Database, clock: Clock, photos: Path
) -> None:
    settings = test_settings(
        tmp_path / "home", database, governance=GovernanceConfig(separate_authoriser=False)
    )
    for api in build_api(settings, clock):
        own = _ready_draft(api, photos, OFFICER)
        r = api.call("POST", f"/deployments/{own}/authorise", OFFICER, json={})
        assert r.status_code == 200, r.text


def test_operators_cannot_close_commanders_and_officers_can(api: Api, photos: Path) -> None:
    s = live_scenario(api, [photos / "obama_01.jpg"])
    path = f"/deployments/{s.deployment_id}/close"
    r = api.call("POST", path, OPERATOR, json={"reason": "done"})
    assert r.status_code == 403
    assert api.call("GET", f"/deployments/{s.deployment_id}", OPERATOR).json()["state"] == "live"
    # Operators still start and stop; the commander stops and closes.
    r = api.call("POST", f"/deployments/{s.deployment_id}/stop", OPERATOR, json={"reason": "x"})
    assert r.status_code == 200
    r = api.call("POST", path, Role.COMMANDER, json={"reason": "end of the operation"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert [r for r in Role if api.call("POST", path, r, json={}).status_code != 403] == [
        OFFICER,
        Role.COMMANDER,
    ]
