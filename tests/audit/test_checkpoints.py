"""Signed checkpoints anchor the log outside the database: a tail cut with a rewound head, a
rewrite, full emptying and a missing head row are all caught, and verification never crashes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.chain import EventContent, event_hash
from openlfr.audit.checkpoints import (
    Checkpoint,
    SigningKey,
    append_checkpoint,
    chain_proof,
    read_checkpoints,
    take_checkpoint,
    verify_chain_proof,
)
from openlfr.audit.models import GENESIS_HASH
from openlfr.cli import app as cli_app
from openlfr.storage.context import Actor
from openlfr.storage.engine import Database

runner = CliRunner()
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _fill(database: Database, n: int, *, first: int = 0) -> None:
    with database.session() as s:
        for i in range(first, first + n):
            audit.append(
                s,
                Actor.system("t"),
                START + timedelta(seconds=i),
                Action.ALERT_READ,
                entity_type="alert",
                entity_id=i,
                deployment_id=1,
                details={"i": i},
            )


def _checkpoint(database: Database, key: SigningKey, minutes: float = 0) -> Checkpoint:
    with database.session() as s:
        return take_checkpoint(
            s, key, at=START + timedelta(hours=1, minutes=minutes), reason="periodic"
        )


def _tamper(database: Database, *statements: str) -> None:
    """What someone with database access can do: around the append-only triggers."""
    with database.session() as s:
        if database.dialect == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            s.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            s.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            s.execute(text(statement))


def _hash_of(database: Database, seq: int) -> str:
    with database.session() as s:
        value = s.execute(text(f"SELECT hash FROM audit_events WHERE seq = {seq}")).scalar_one()
        return str(value)


def _verify(database: Database, checkpoints: list[Checkpoint] | None, key: SigningKey):  # type: ignore[no-untyped-def]
    with database.session() as s:
        return audit.verify(s, checkpoints, key.public_key)


def test_tail_cut_with_a_rewound_head_is_caught_only_by_checkpoints(database: Database) -> None:
    key = SigningKey.generate()
    _fill(database, 8)
    cp = _checkpoint(database, key)
    assert (cp.seq, cp.hash) == (8, _hash_of(database, 8))
    _tamper(
        database,
        "DELETE FROM audit_events WHERE seq >= 6",
        f"UPDATE audit_head SET last_seq = 5, last_hash = '{_hash_of(database, 5)}'",
    )
    plain = _verify(database, None, key)
    assert plain.ok  # the chain and head agree with each other: only the anchor can tell
    anchored = _verify(database, [cp], key)
    assert not anchored.ok
    assert "cut short at event 5" in (anchored.problem or "")
    assert "signed event 8" in (anchored.problem or "")


def test_full_emptying_is_caught(database: Database) -> None:
    key = SigningKey.generate()
    _fill(database, 5)
    cp = _checkpoint(database, key)
    _tamper(
        database,
        "DELETE FROM audit_events",
        f"UPDATE audit_head SET last_seq = 0, last_hash = '{GENESIS_HASH}'",
    )
    report = _verify(database, [cp], key)
    assert not report.ok and report.events_checked == 0
    assert "the log was emptied" in (report.problem or "")


def test_a_rewritten_log_with_recomputed_hashes_is_caught(database: Database) -> None:
    key = SigningKey.generate()
    _fill(database, 6)
    cp = _checkpoint(database, key)
    # Rewrite events 4..6 with new content, recomputing every hash and the head.
    with database.session() as s:
        prev = str(s.execute(text("SELECT hash FROM audit_events WHERE seq = 3")).scalar_one())
    statements = ["DELETE FROM audit_events WHERE seq >= 4"]
    for seq in range(4, 7):
        at = START + timedelta(seconds=seq)
        content = EventContent(seq, at, "system:t", None, "alert.read", "alert", "x", 1, "{}")
        digest = event_hash(prev, content)
        statements.append(
            "INSERT INTO audit_events (seq, at, actor, actor_user_id, action, entity_type, "
            f"entity_id, deployment_id, details, prev_hash, hash) VALUES ({seq}, "
            f"'{at.strftime('%Y-%m-%d %H:%M:%S.%f')}', 'system:t', NULL, 'alert.read', "
            f"'alert', 'x', 1, '{{}}', '{prev}', '{digest}')"
        )
        prev = digest
    statements.append(f"UPDATE audit_head SET last_seq = 6, last_hash = '{prev}'")
    _tamper(database, *statements)
    assert _verify(database, None, key).ok
    report = _verify(database, [cp], key)
    assert not report.ok and "rewritten: event 6" in (report.problem or "")


def test_a_missing_head_row_is_reported_and_refuses_appends_clearly(database: Database) -> None:
    key = SigningKey.generate()
    _fill(database, 4)
    _tamper(database, "DELETE FROM audit_head")
    report = _verify(database, None, key)
    assert not report.ok and report.events_checked == 4
    assert "head row is missing" in (report.problem or "")
    with pytest.raises(audit.AuditUnavailable, match="head row is missing"):
        _fill(database, 1, first=10)


def test_forged_and_rewound_checkpoints_are_reported(database: Database) -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    _fill(database, 3)
    early = _checkpoint(database, key)
    _fill(database, 3, first=3)
    late = _checkpoint(database, key, minutes=5)
    forged = _checkpoint(database, other, minutes=6)
    assert _verify(database, [early, late], key).ok
    report = _verify(database, [early, late, forged], key)
    assert not report.ok and "no valid signature" in (report.problem or "")
    # A later checkpoint that signs an older event: the log was rewound in between.
    rewound = key.sign(early.seq, early.hash, at=late.at + timedelta(minutes=1), reason="periodic")
    report = _verify(database, [early, late, rewound], key)
    assert any("rewound" in p for p in report.problems)


def test_chain_proof_links_an_event_to_a_signed_checkpoint(database: Database) -> None:
    key = SigningKey.generate()
    _fill(database, 7)
    cp = _checkpoint(database, key)
    with database.session() as s:
        proof = chain_proof(s, 3, cp.seq)
    assert [e.content.seq for e in proof] == [3, 4, 5, 6, 7]
    assert verify_chain_proof(proof, cp, key.public_key) is None
    assert verify_chain_proof(proof[:-1], cp, key.public_key) is not None
    assert verify_chain_proof(proof, cp, SigningKey.generate().public_key) is not None


def test_checkpoint_file_round_trip_and_bad_lines(tmp_path: Path, database: Database) -> None:
    key = SigningKey.generate()
    _fill(database, 2)
    path = tmp_path / "cp.jsonl"
    cp = _checkpoint(database, key)
    append_checkpoint(path, cp)
    with path.open("a") as fh:
        fh.write("not json\n")
        fh.write(json.dumps({"format": "something-else"}) + "\n")
    found = read_checkpoints(path)
    assert found.checkpoints == (cp,) and found.checkpoints[0].signature_valid(key.public_key)
    assert len(found.problems) == 2 and "line 2" in found.problems[0]


def _cli(database: Database, monkeypatch: pytest.MonkeyPatch, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENLFR_DATABASE__URL", database.url.render_as_string(False))
    return runner.invoke(cli_app, list(args))


@pytest.mark.parametrize("attack", ["rewound_tail", "emptied", "missing_head"])
def test_cli_verify_with_checkpoints_catches_each_attack(
    attack: str, database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    """Must show: ``audit verify --checkpoints`` catches tail truncation with a rewound head,
    full emptying and a missing head row (exit 1, a reason, never a traceback)."""
    _fill(database, 9)
    taken = _cli(database, monkeypatch, "audit", "checkpoint", "--json")
    assert taken.exit_code == 0, taken.output
    file = isolated_home / "audit" / "checkpoints.jsonl"
    assert json.loads(taken.stdout)["seq"] == 9 and file.is_file()
    ok = _cli(database, monkeypatch, "audit", "verify", "--checkpoints", str(file))
    assert ok.exit_code == 0, ok.output
    assert "matches 1 signed checkpoints" in ok.stdout
    if attack == "rewound_tail":
        _tamper(
            database,
            "DELETE FROM audit_events WHERE seq >= 8",
            f"UPDATE audit_head SET last_seq = 7, last_hash = '{_hash_of(database, 7)}'",
        )
        expected = "cut short at event 7"
    elif attack == "emptied":
        _tamper(
            database,
            "DELETE FROM audit_events",
            f"UPDATE audit_head SET last_seq = 0, last_hash = '{GENESIS_HASH}'",
        )
        expected = "the log was emptied"
    else:
        _tamper(database, "DELETE FROM audit_head")
        expected = "head row is missing"
    broken = _cli(database, monkeypatch, "audit", "verify", "--checkpoints", str(file), "--json")
    assert broken.exit_code == 1, broken.output
    assert broken.exception is None or isinstance(broken.exception, SystemExit)
    report = json.loads(broken.stdout)
    assert report["ok"] is False
    assert any(expected in p for p in report["problems"]), report["problems"]


def test_cli_restore_head_only_when_the_log_matches_the_checkpoints(
    database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    _fill(database, 5)
    assert _cli(database, monkeypatch, "audit", "checkpoint").exit_code == 0
    file = isolated_home / "audit" / "checkpoints.jsonl"
    _tamper(database, "DELETE FROM audit_head")
    restored = _cli(database, monkeypatch, "audit", "restore-head", "--checkpoints", str(file))
    assert restored.exit_code == 0, restored.output
    after = _cli(database, monkeypatch, "audit", "verify", "--checkpoints", str(file))
    assert after.exit_code == 0, after.output
    # A head removed after the tail was cut is not restored: the checkpoint shows the cut.
    assert _cli(database, monkeypatch, "audit", "checkpoint").exit_code == 0
    last = read_checkpoints(file).checkpoints[-1].seq
    _tamper(database, f"DELETE FROM audit_events WHERE seq >= {last - 1}", "DELETE FROM audit_head")
    refused = _cli(database, monkeypatch, "audit", "restore-head", "--checkpoints", str(file))
    assert refused.exit_code == 1 and "does not verify" in refused.output
