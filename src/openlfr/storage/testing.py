"""Test support for the control plane: a manual clock and migrated databases on both backends.

Import the fixtures into a ``conftest.py``::

    from openlfr.storage.testing import clock, database  # noqa: F401

``database`` is parametrised over SQLite and PostgreSQL; the PostgreSQL cases
skip, with the reason, when no server answers at ``OPENLFR_TEST_POSTGRES_URL``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from openlfr.storage import migrate
from openlfr.storage.engine import Database
from openlfr.storage.schema import metadata

POSTGRES_ENV = "OPENLFR_TEST_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


def postgres_url() -> str:
    return os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)


@cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or None if they can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'openlfr[postgres]')"
    url = make_url(postgres_url())
    probe = Database(url)
    try:
        with probe.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL unreachable at {url.render_as_string(hide_password=True)}: {exc}"
    finally:
        probe.dispose()
    return None


def _with_schema(url: str, schema: str) -> str:
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


class PostgresSchema:
    """A private, migrated schema in the test database, emptied between tests."""

    def __init__(self) -> None:
        self.schema = f"olfr_t_{os.getpid()}_{secrets.token_hex(3)}"
        admin = Database(postgres_url())
        with admin.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        self.url = _with_schema(postgres_url(), self.schema)
        db = Database(self.url)
        migrate.upgrade(db)
        db.dispose()
        self.tables = [t.name for t in metadata().sorted_tables]

    def reset(self) -> None:
        db = Database(self.url)
        with db.engine.begin() as conn:
            # Replica mode skips the audit log's append-only triggers for the reset.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(f'"{t}"' for t in self.tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            conn.execute(
                text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :g)"),
                {"g": "0" * 64},
            )
        db.dispose()

    def drop(self) -> None:
        admin = Database(postgres_url())
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[PostgresSchema | None]:
    if postgres_unavailable():
        yield None
        return
    schema = PostgresSchema()
    try:
        yield schema
    finally:
        schema.drop()


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres_schema: PostgresSchema | None,
) -> Iterator[Database]:
    """A migrated, empty database: SQLite (a file) or PostgreSQL (a private schema)."""
    if request.param == "sqlite":
        path = tmp_path / "openlfr.db"
        shutil.copyfile(_sqlite_template, path)
        db = Database(f"sqlite:///{path}")
    else:
        reason = postgres_unavailable()
        if reason or _postgres_schema is None:
            pytest.skip(reason or "PostgreSQL unavailable")
        _postgres_schema.reset()
        db = Database(_postgres_schema.url)
    try:
        yield db
    finally:
        db.dispose()
