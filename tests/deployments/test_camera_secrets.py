"""Camera stream credentials: sealed at rest, masked in every answer, opened only to run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from openlfr.api.testing import EXAMPLES, PASSWORD, Api, live_scenario
from openlfr.users.roles import Role

SECRET_URL = "rtsp://admin:S3cretCamPass@10.0.0.5:554/stream1?token=T0kenXyz42&channel=1"
SECRETS = ("S3cretCamPass", "T0kenXyz42", "admin:")


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


def test_stream_credentials_are_sealed_masked_and_reach_only_the_pipeline(
    api: Api, photos: Path
) -> None:
    s = live_scenario(api, [photos / "obama_01.jpg"], camera_source=SECRET_URL)
    # A camera added later goes through the same path.
    r = api.call(
        "POST",
        "/deployments",
        Role.WATCHLIST_MANAGER,
        json={
            "name": "second",
            "location": "y",
            "purpose": "z",
            "legal_basis": "w",
            "planned_start": api.plane.clock.now().isoformat(),
            "planned_end": "2099-01-01T00:00:00Z",
        },
    )
    second = r.json()["id"]
    r = api.call(
        "POST",
        f"/deployments/{second}/cameras",
        Role.WATCHLIST_MANAGER,
        json={"name": "door", "source": SECRET_URL.replace("stream1", "stream2")},
    )
    assert r.status_code == 201
    assert r.json()["source"] == "rtsp://***@10.0.0.5:554/stream2?token=***&channel=1"
    assert r.json()["credentials_sealed"] is True

    for role in Role:
        for path in (f"/deployments/{s.deployment_id}", "/deployments", f"/deployments/{second}"):
            body = api.call("GET", path, role)
            if body.status_code == 200:
                assert not any(x in body.text for x in SECRETS), (role, path)
    camera = api.call("GET", f"/deployments/{s.deployment_id}", Role.AUDITOR).json()["cameras"][0]
    assert camera["source"] == "rtsp://***@10.0.0.5:554/stream1?token=***&channel=1"
    audit = api.call("GET", "/audit/events?limit=500", Role.AUDITOR).text
    assert not any(x in audit for x in SECRETS)

    # At rest: nothing in any column of the cameras table gives the secrets away.
    with api.plane.database.session() as db:
        rows = db.execute(text("SELECT * FROM cameras")).all()
    dumped = repr(rows)
    assert not any(x in dumped for x in ("S3cretCamPass", "T0kenXyz42"))

    # The code that starts the pipeline receives the full address.
    assert api.launcher.sessions[s.deployment_id].plan.cameras[0].source == SECRET_URL


def test_console_masks_stream_credentials(api: Api, photos: Path) -> None:
    s = live_scenario(api, [photos / "obama_01.jpg"], camera_source=SECRET_URL)
    client = api.client
    r = client.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200, r.text
    page = client.get(f"/console/deployments/{s.deployment_id}")
    assert page.status_code == 200
    assert "10.0.0.5" in page.text
    assert not any(x in page.text for x in SECRETS)
