"""Fixtures: the API on a migrated database (SQLite and PostgreSQL), users per role, a clock."""

from openlfr.api.testing import api, plane
from openlfr.storage.testing import _postgres_schema, _sqlite_template, clock, database

__all__ = ["_postgres_schema", "_sqlite_template", "api", "clock", "database", "plane"]
