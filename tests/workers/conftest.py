"""Fixtures: the hub's API with the workers' hub as its launcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openlfr.api.app import create_app
from openlfr.api.testing import Api, add_token, add_user, test_settings
from openlfr.services import Services
from openlfr.storage.clock import Clock
from openlfr.storage.engine import Database
from openlfr.storage.testing import _postgres_schema, _sqlite_template, clock, database
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.workers.hub import WorkerHub

__all__ = ["_postgres_schema", "_sqlite_template", "clock", "database", "hub_api"]


@pytest.fixture
def hub_api(tmp_path: Path, database: Database, clock: Clock, pack: ModelPack) -> Iterator[Api]:
    """The API whose deployments go to workers; a user and token per role (the worker's too)."""
    services = Services(test_settings(tmp_path / "home", database))
    services.__dict__["pack"] = pack
    hub = WorkerHub()
    app = create_app(services=services, clock=clock, launcher=hub, background=False)
    plane = app.state.plane
    with TestClient(app) as client:
        ids = {role: add_user(plane, role.value.replace("_", "-"), role) for role in Role}
        # People hold no tokens: each role's token belongs to a service account.
        service_ids = {
            role: add_user(plane, role.value.replace("_", "-") + "-svc", role, password=None)
            for role in Role
        }
        tokens = {role: add_token(plane, uid) for role, uid in service_ids.items()}
        yield Api(app, client, plane, hub, tokens, ids, service_ids)  # type: ignore[arg-type]
