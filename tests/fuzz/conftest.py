"""Fixtures: one API for a whole module, on PostgreSQL when it answers and SQLite otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openlfr.api.testing import Api, build_api, test_settings
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.storage.engine import Database
from openlfr.storage.testing import ManualClock, PostgresSchema, postgres_unavailable
from openlfr.vision.pack import ModelPack


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory, pack: ModelPack) -> Iterator[Api]:
    """The API with a token per role, on PostgreSQL (where NUL bytes and integer ranges
    bite) when reachable, else on a SQLite file; shared by every example of a module."""
    home = tmp_path_factory.mktemp("fuzz-home")
    schema: PostgresSchema | None = None
    if postgres_unavailable() is None:
        schema = PostgresSchema()
        database = Database(schema.url)
    else:
        database = Database(f"sqlite:///{home / 'openlfr.db'}")
        migrate.upgrade(database)
    try:
        services = Services(test_settings(home, database))
        services.__dict__["pack"] = pack  # cached_property slot: models load once per session
        yield from build_api(services.settings, ManualClock(), services=services)
    finally:
        database.dispose()
        if schema is not None:
            schema.drop()
