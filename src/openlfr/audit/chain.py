"""The hash chain: canonical event bytes, event hashes, and verification of a whole log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from openlfr.audit.models import GENESIS_HASH

JSONScalar = str | int | float | bool | None
JSONValue = JSONScalar | Sequence["JSONValue"] | Mapping[str, "JSONValue"]


def canonical_details(details: Mapping[str, JSONValue]) -> str:
    """The one serialisation of an event's details that is stored and hashed."""
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class EventContent:
    """Everything an event's hash covers, apart from the previous hash."""

    seq: int
    at: datetime
    actor: str
    actor_user_id: int | None
    action: str
    entity_type: str
    entity_id: str | None
    deployment_id: int | None
    details: str
    credential: str | None = None

    def canonical(self) -> bytes:
        at = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields = [
            self.seq,
            at,
            self.actor,
            self.actor_user_id,
            self.action,
            self.entity_type,
            self.entity_id,
            self.deployment_id,
            self.details,
        ]
        if self.credential is not None:
            # Appended only when present: events written before credentials were recorded
            # keep the hashes they were written with.
            fields.append(self.credential)
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, content: EventContent) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + content.canonical()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back from storage."""

    content: EventContent
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Outcome of re-computing the chain. ``broken_at_seq`` is the first bad link."""

    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    broken_at_seq: int | None = None
    problem: str | None = None
    # Every problem found (``problem`` is the first), checks against signed checkpoints,
    # and notes that are not failures (an empty log, no checkpoints to compare with).
    problems: tuple[str, ...] = ()
    checkpoints_checked: int = 0
    latest_checkpoint_seq: int | None = None
    warnings: tuple[str, ...] = ()


def verify_chain(events: Iterable[StoredEvent], head: tuple[int, str] | None) -> VerifyReport:
    """Walk ``events`` in sequence order and report the first link that does not hold.

    Detects an edited event (its hash no longer matches its content), a deleted
    one (a gap in the sequence, or a head that points past the last event), and
    reordered ones (a previous-hash that is not the hash before it).
    """
    expected_seq = 1
    running = GENESIS_HASH
    checked = 0
    for event in events:
        seq = event.content.seq
        if seq != expected_seq:
            kind = "missing (deleted?)" if seq > expected_seq else "out of order"
            return _broken(checked, running, expected_seq, f"event {expected_seq} is {kind}")
        if event.prev_hash != running:
            return _broken(
                checked,
                running,
                seq,
                f"event {seq} does not follow event {seq - 1} "
                "(reordered, or an earlier event was replaced)",
            )
        try:
            recomputed = event_hash(event.prev_hash, event.content)
        except (AttributeError, TypeError, ValueError) as exc:
            # A row with a NULL or mistyped column: report it, never crash on it.
            return _broken(checked, running, seq, f"event {seq} cannot be read ({exc})")
        if recomputed != event.hash:
            return _broken(checked, running, seq, f"event {seq} was altered after it was written")
        running = event.hash
        checked += 1
        expected_seq += 1
    last_seq = expected_seq - 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq != last_seq:
            return _broken(
                checked,
                running,
                last_seq + 1,
                f"the log ends at event {last_seq} but its head records event {head_seq} "
                "(events deleted from the end?)",
            )
        if head_hash != running:
            return _broken(checked, running, last_seq, "the head's hash does not match the log")
    return VerifyReport(ok=True, events_checked=checked, head_seq=last_seq, head_hash=running)


def _broken(checked: int, running: str, seq: int, problem: str) -> VerifyReport:
    return VerifyReport(
        ok=False,
        events_checked=checked,
        head_seq=seq - 1,
        head_hash=running,
        broken_at_seq=seq,
        problem=problem,
        problems=(problem,),
    )
