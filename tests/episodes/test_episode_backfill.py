"""Upgrading a home with alerts stored before episodes existed: none leaves the queue."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from test_episodes_api import _raise

import openlfr.storage.migrations.versions as versions
from openlfr.api.testing import Api, live_scenario
from openlfr.storage.engine import Database
from openlfr.users.roles import Role

DEMOKIT = Path(__file__).resolve().parents[2] / "src" / "openlfr" / "demokit" / "images"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _episodes_migration() -> ModuleType:
    (path,) = Path(versions.__file__).parent.glob("*_0012_alert_episodes.py")
    spec = importlib.util.spec_from_file_location("episodes_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_alerts_stored_before_episodes_each_get_one_on_upgrade(
    api: Api, database: Database
) -> None:
    live = live_scenario(api, [DEMOKIT / "london_001_neutral.jpg"], two_person=False)
    waiting = _raise(api, live, at=T0, score=0.71, track="1")
    decided = _raise(api, live, at=T0 + timedelta(seconds=30), score=0.83, track="2")
    r = api.call(
        "POST", f"/alerts/{decided}/adjudication", Role.OPERATOR, json={"decision": "false_alert"}
    )
    assert r.status_code == 201, r.text

    # The alerts as a home stored them before episodes existed (no episode, no link), then
    # the upgrade's backfill over them.
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alerts SET episode_id = NULL"))
        conn.execute(text("DELETE FROM alert_episodes"))
    assert api.call("GET", "/episodes", Role.OPERATOR).json()["total"] == 0
    with database.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        _episodes_migration()._backfill_episodes()

    page = api.call("GET", "/episodes", Role.OPERATOR, params={"pending": True}).json()
    assert [item["best_alert_id"] for item in page["items"]] == [waiting]
    assert page["items"][0]["looks"] == 1
    assert page["items"][0]["category"] == "wanted_on_warrant"
    every = api.call("GET", "/episodes", Role.OPERATOR).json()
    assert every["total"] == 2
    (done,) = [item for item in every["items"] if item["best_alert_id"] == decided]
    assert done["decision"] == "false_alert" and done["decided_at"] is not None
    for alert_id in (waiting, decided):
        assert api.call("GET", f"/alerts/{alert_id}", Role.OPERATOR).json()["episode_id"]
