"""The SQL engine and sessions: SQLite (WAL, serialised writers) or PostgreSQL, one code path."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from openlfr.storage.context import track_blob_lifecycle


class Database:
    """An engine plus a session factory for one database URL.

    SQLite: the file and its folder are created on first use, the journal is
    WAL (readers never block the writer) and every transaction starts with
    ``BEGIN IMMEDIATE``. Taking the write lock up front means two requests can
    never both read the audit chain's head or a deployment's state and then race
    to update it; SQLite would otherwise fail one of them half-way.

    PostgreSQL: the services lock the rows they read-modify-write
    (``SELECT … FOR UPDATE``), the audit head included.
    """

    def __init__(self, url: str | URL, *, busy_timeout_s: float = 30.0, echo: bool = False) -> None:
        self.url = make_url(url)
        self.engine = _make_engine(self.url, busy_timeout_s=busy_timeout_s, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        track_blob_lifecycle(self._sessions)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite, else None."""
        if self.dialect != "sqlite" or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def new_session(self) -> Session:
        return self._sessions()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as db:
            try:
                yield db
                db.commit()
            except BaseException:
                db.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: URL, *, busy_timeout_s: float, echo: bool) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Owner-only from the start; SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a committed alert survives a power cut, not just a crash of this process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        # Deleted biometric rows are overwritten with zeros instead of lingering in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
