"""Migrations: the schema they build is exactly the models', both ways, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from openlfr.storage import migrate
from openlfr.storage.engine import Database
from openlfr.storage.schema import metadata


def _diff(database: Database) -> list[object]:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata()))


def test_migrated_schema_matches_the_models(database: Database) -> None:
    assert migrate.current_revision(database) == migrate.head_revision()
    assert _diff(database) == []


def test_downgrade_to_base_and_up_again(database: Database) -> None:
    migrate.downgrade(database, "base")
    assert migrate.current_revision(database) is None
    with database.engine.connect() as conn:
        tables = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if database.dialect == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            )
        }
    assert tables <= {"alembic_version"}
    assert migrate.upgrade(database) == migrate.head_revision()
    assert _diff(database) == []


def test_audit_head_starts_at_genesis(database: Database) -> None:
    with database.session() as s:
        row = s.execute(text("SELECT id, last_seq, last_hash FROM audit_head")).one()
    assert tuple(row) == (1, 0, "0" * 64)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_change_audit_events(
    database: Database, statement: str
) -> None:
    with database.session() as s:
        s.execute(
            text(
                "INSERT INTO audit_events (seq, at, actor, action, entity_type, details, "
                "prev_hash, hash) VALUES (1, :at, 'a', 'x', 't', '{}', 'p', 'h')"
            ),
            {"at": "2026-01-01 00:00:00"},
        )
    with pytest.raises(DatabaseError, match="append-only"), database.session() as s:
        s.execute(text(statement))
