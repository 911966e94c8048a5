"""The hash chain on its own: every kind of tampering is caught at the right event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from openlfr.audit.chain import EventContent, StoredEvent, event_hash, verify_chain
from openlfr.audit.models import GENESIS_HASH


def _log(n: int) -> list[StoredEvent]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        content = EventContent(
            seq=seq,
            at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seq),
            actor="user:op",
            actor_user_id=3,
            action="alert.read",
            entity_type="alert",
            entity_id=str(seq),
            deployment_id=1,
            details=f'{{"n":{seq}}}',
        )
        digest = event_hash(prev, content)
        events.append(StoredEvent(content, prev, digest))
        prev = digest
    return events


def _head(events: list[StoredEvent]) -> tuple[int, str]:
    return events[-1].content.seq, events[-1].hash


def test_an_intact_log_verifies() -> None:
    log = _log(6)
    report = verify_chain(log, _head(log))
    assert report.ok and report.events_checked == 6 and report.head_hash == log[-1].hash


def test_an_empty_log_verifies_against_genesis() -> None:
    report = verify_chain([], (0, GENESIS_HASH))
    assert report.ok and report.events_checked == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("actor", "user:someone-else"),
        ("details", '{"n":999}'),
        ("at", datetime(2030, 1, 1, tzinfo=UTC)),
        ("deployment_id", 2),
        ("actor_user_id", None),
    ],
)
def test_an_edited_event_is_the_first_broken_link(field: str, value: object) -> None:
    log = _log(6)
    log[3] = StoredEvent(replace(log[3].content, **{field: value}), log[3].prev_hash, log[3].hash)
    report = verify_chain(log, _head(log))
    assert not report.ok and report.broken_at_seq == 4
    assert "altered" in (report.problem or "")
    assert report.events_checked == 3


def test_an_edit_with_recomputed_hash_breaks_the_next_link() -> None:
    log = _log(6)
    content = replace(log[2].content, details='{"n":-1}')
    log[2] = StoredEvent(content, log[2].prev_hash, event_hash(log[2].prev_hash, content))
    report = verify_chain(log, _head(log))
    assert report.broken_at_seq == 4 and "does not follow" in (report.problem or "")


def test_a_deleted_event_is_reported() -> None:
    log = _log(6)
    del log[2]
    report = verify_chain(log, _head(log))
    assert report.broken_at_seq == 3 and "missing" in (report.problem or "")


def test_a_deleted_tail_is_caught_by_the_head() -> None:
    log = _log(6)
    head = _head(log)
    report = verify_chain(log[:4], head)
    assert not report.ok and report.broken_at_seq == 5
    assert "head records event 6" in (report.problem or "")


def test_reordered_events_are_reported() -> None:
    log = _log(6)
    # Swap two events' sequence numbers (what re-sorting the table would show).
    a, b = log[2], log[3]
    log[2] = StoredEvent(replace(b.content, seq=3), b.prev_hash, b.hash)
    log[3] = StoredEvent(replace(a.content, seq=4), a.prev_hash, a.hash)
    report = verify_chain(log, _head(log))
    assert not report.ok and report.broken_at_seq == 3
