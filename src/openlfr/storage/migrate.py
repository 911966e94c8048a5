"""Schema migrations with Alembic, run from the installed package (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from openlfr.storage.engine import Database

SCRIPT_LOCATION = "openlfr.storage:migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    config.attributes["database"] = database
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config_for_scripts())
    head = script.get_current_head()
    assert head is not None
    return head


def alembic_config_for_scripts() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    return config


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; returns the revision it is at afterwards."""
    command.upgrade(alembic_config(database), revision)
    return current_revision(database)


def downgrade(database: Database, revision: str) -> str | None:
    command.downgrade(alembic_config(database), revision)
    return current_revision(database)
