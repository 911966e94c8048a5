"""Fixtures: a migrated database on SQLite and PostgreSQL, a manual clock."""

from openlfr.storage.testing import _postgres_schema, _sqlite_template, clock, database

__all__ = ["_postgres_schema", "_sqlite_template", "clock", "database"]
