"""Alembic environment: runs migrations on the connection of an openlfr ``Database``."""

from __future__ import annotations

from alembic import context

from openlfr.storage.engine import Database
from openlfr.storage.schema import metadata

config = context.config


def run() -> None:
    database = config.attributes.get("database")
    if not isinstance(database, Database):
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("run migrations through openlfr (openlfr db upgrade)")
        database = Database(url)
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata(),
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
