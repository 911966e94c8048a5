"""The stored audit log on both backends: tampering with rows is detected by verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.chain import VerifyReport
from openlfr.cli import app as cli_app
from openlfr.storage.context import Actor
from openlfr.storage.engine import Database

runner = CliRunner()


def _fill(database: Database, n: int = 8) -> None:
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with database.session() as s:
        for i in range(n):
            audit.append(
                s,
                Actor.system("t"),
                start + timedelta(seconds=i),
                Action.ALERT_READ,
                entity_type="alert",
                entity_id=i,
                deployment_id=1,
                details={"i": i, "score": 0.5 + i / 100},
            )


def _tamper(database: Database, *statements: str) -> None:
    """Change the log the way someone with database access could: around the triggers."""
    with database.session() as s:
        if database.dialect == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            s.execute(text("DROP TRIGGER audit_events_no_update"))
            s.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            s.execute(text(statement))


def _verify(database: Database) -> VerifyReport:
    with database.session() as s:
        return audit.verify(s)


def test_an_untouched_log_verifies(database: Database) -> None:
    _fill(database)
    report = _verify(database)
    assert report.ok and report.events_checked == 8


def test_edit_is_detected(database: Database) -> None:
    _fill(database)
    _tamper(database, "UPDATE audit_events SET details = '[]' WHERE seq = 5")
    report = _verify(database)
    assert not report.ok and report.broken_at_seq == 5 and "altered" in report.problem


def test_delete_is_detected(database: Database) -> None:
    _fill(database)
    _tamper(database, "DELETE FROM audit_events WHERE seq = 3")
    report = _verify(database)
    assert not report.ok and report.broken_at_seq == 3


def test_deleting_the_newest_events_is_detected(database: Database) -> None:
    _fill(database)
    _tamper(database, "DELETE FROM audit_events WHERE seq >= 7")
    report = _verify(database)
    assert not report.ok and report.broken_at_seq == 7


def test_reorder_is_detected(database: Database) -> None:
    _fill(database)
    _tamper(
        database,
        "UPDATE audit_events SET seq = 1000 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = 1000",
    )
    report = _verify(database)
    assert not report.ok and report.broken_at_seq == 4


def test_cli_verify_names_the_first_broken_link(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLFR_DATABASE__URL", database.url.render_as_string(False))
    _fill(database)
    ok = runner.invoke(cli_app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"ok": true' in ok.stdout
    _tamper(database, "UPDATE audit_events SET actor = 'user:nobody' WHERE seq = 2")
    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "broken at event 2" in broken.output
