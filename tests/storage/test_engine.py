"""The engine: SQLite pragmas and file mode, transactions, concurrent writers on both backends."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.context import Actor
from openlfr.storage.engine import Database


def test_sqlite_is_wal_with_foreign_keys_and_owner_only(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with db.session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA secure_delete")).scalar() == 1
    mode = stat.S_IMODE((tmp_path / "sub" / "x.db").stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
    assert db.sqlite_path == tmp_path / "sub" / "x.db"
    db.dispose()


def test_session_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as s:
        audit.append(
            s, Actor.system("t"), datetime.now(UTC), Action.RETENTION_RUN, entity_type="x"
        )
        raise RuntimeError("boom")
    with database.session() as s:
        assert audit.count_events(s) == 0


def test_concurrent_writers_keep_the_audit_chain_linear(database: Database) -> None:
    """Appends from several threads at once never fork the chain or reuse a sequence number."""
    per_thread, threads = 8, 4
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                with database.session() as s:
                    audit.append(
                        s,
                        Actor.system(f"writer-{n}"),
                        datetime.now(UTC),
                        Action.RETENTION_RUN,
                        entity_type="test",
                        details={"i": i},
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    with database.session() as s:
        report = audit.verify(s)
    assert report.ok, report.problem
    assert report.events_checked == per_thread * threads
