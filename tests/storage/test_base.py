"""The UTC datetime column: aware in, aware out, the same instant on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from openlfr.audit.models import AuditEvent
from openlfr.storage.engine import Database


def _event(at: datetime) -> AuditEvent:
    return AuditEvent(
        seq=1, at=at, actor="a", action="x", entity_type="t", details="{}", prev_hash="0", hash="1"
    )


def test_aware_datetimes_round_trip_as_utc(database: Database) -> None:
    local = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with database.session() as s:
        s.add(_event(local))
    with database.session() as s:
        got = s.execute(select(AuditEvent.at)).scalar_one()
    assert got.tzinfo is not None
    assert got == local
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(UTC).hour == 10


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.session() as s:
        s.add(_event(datetime(2026, 3, 1, 12, 0)))
        s.flush()
