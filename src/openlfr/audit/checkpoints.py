"""Signed checkpoints of the audit chain's head (Ed25519), kept and checked outside the database.

A checkpoint says "at time T the log's newest event was number SEQ with hash
HASH", signed with a key that never enters the database. Whoever keeps copies
of the checkpoints (the JSON-lines file, an MQTT retained topic, a webhook
receiver) can later prove that the log was cut short, rewritten or emptied,
even by someone who also rewound the head row to match.

Format ``openlfr-audit-checkpoint/1``, one JSON object per line::

    {"format": "openlfr-audit-checkpoint/1", "seq": 42, "hash": "<64 hex>",
     "at": "2026-01-05T09:00:00.000000Z", "reason": "periodic",
     "key_id": "<16 hex>", "signature": "<base64 Ed25519>"}

The signature covers the UTF-8 bytes of ``canonical_json`` of every field but
``signature`` (keys sorted, no spaces). ``key_id`` is the first 16 hex digits of
SHA-256 over the raw 32-byte public key. ``seq`` 0 with the genesis hash is the
empty log. Public API: :class:`Checkpoint`, :class:`SigningKey`,
:func:`load_public_key`, :func:`read_checkpoints`, :func:`append_checkpoint`,
:func:`take_checkpoint`, :func:`check_log`, :func:`chain_proof`,
:func:`verify_chain_proof`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit.chain import StoredEvent, event_hash
from openlfr.audit.models import GENESIS_HASH, AuditEvent, AuditHead

FORMAT = "openlfr-audit-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint, checkpoint file or key that cannot be used (the message says why)."""


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed statement of the chain's head (see the module docstring for the format)."""

    seq: int
    hash: str
    at: datetime
    reason: str
    key_id: str
    signature: str
    format: str = FORMAT

    def signed_bytes(self) -> bytes:
        fields = {
            "format": self.format,
            "seq": self.seq,
            "hash": self.hash,
            "at": _iso(self.at),
            "reason": self.reason,
            "key_id": self.key_id,
        }
        return canonical_json(fields).encode()

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "at": _iso(self.at)}

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: object) -> Checkpoint:
        if not isinstance(data, dict):
            raise CheckpointError("a checkpoint must be a JSON object")
        if data.get("format") != FORMAT:
            raise CheckpointError(f"unknown checkpoint format {data.get('format')!r}")
        try:
            seq, digest = data["seq"], data["hash"]
            at = datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
            reason, key_id, signature = data["reason"], data["key_id"], data["signature"]
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"checkpoint field missing or malformed: {exc}") from None
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise CheckpointError("checkpoint seq must be a non-negative integer")
        if not (isinstance(digest, str) and len(digest) == 64):
            raise CheckpointError("checkpoint hash must be 64 hex digits")
        if not all(isinstance(v, str) for v in (reason, key_id, signature)) or at.tzinfo is None:
            raise CheckpointError("checkpoint reason, key_id, signature and at must be text")
        return cls(seq, digest, at, reason, key_id, signature)

    def signature_valid(self, public_key: Ed25519PublicKey) -> bool:
        if self.key_id != key_id_of(public_key):
            return False
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


class SigningKey:
    """The Ed25519 key that signs checkpoints; it lives in a file, never in the database."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """The key in ``path`` (PEM, PKCS#8); :class:`CheckpointError` if it is unusable."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CheckpointError(f"audit signing key {path} does not exist") from None
        except OSError as exc:
            raise CheckpointError(f"audit signing key {path} cannot be read: {exc}") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"audit signing key {path} is not a PEM key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(f"audit signing key {path} is not an Ed25519 key")
        return cls(key)

    def save(self, path: Path) -> None:
        """Write the key, owner-only, refusing to overwrite an existing file."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())

    def sign_bytes(self, data: bytes) -> bytes:
        """A raw Ed25519 signature of ``data`` (evidence packs are sealed with it)."""
        return self._key.sign(data)

    def sign(self, seq: int, digest: str, *, at: datetime, reason: str) -> Checkpoint:
        unsigned = Checkpoint(seq, digest, at, reason, self.key_id, "")
        signature = base64.b64encode(self._key.sign(unsigned.signed_bytes())).decode()
        return Checkpoint(seq, digest, at, reason, self.key_id, signature)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (``openlfr audit public-key`` prints one) or a private key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"public key {path} cannot be read: {exc}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"{path} holds no PEM Ed25519 key: {exc}") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise CheckpointError(f"{path} is not an Ed25519 key") from None
        return private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return key


@dataclass(frozen=True, slots=True)
class CheckpointFile:
    """What a checkpoint file holds: the checkpoints that parse, and why the others did not."""

    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[str, ...] = ()


def read_checkpoints(path: Path) -> CheckpointFile:
    """Every checkpoint in a JSON-lines file, oldest first; bad lines are reported, not raised."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint file {path} cannot be read: {exc}") from None
    found, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_dict(json.loads(line)))
        except (json.JSONDecodeError, CheckpointError) as exc:
            problems.append(f"{path.name} line {number}: {exc}")
    return CheckpointFile(tuple(found), tuple(problems))


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and make it durable before returning."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(checkpoint.to_json() + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def take_checkpoint(db: Session, key: SigningKey, *, at: datetime, reason: str) -> Checkpoint:
    """Sign the head as the database holds it now (the empty log is seq 0, genesis)."""
    head = db.get(AuditHead, 1)
    if head is None:
        raise CheckpointError("the audit log's head row is missing: run 'openlfr audit verify'")
    return key.sign(head.last_seq, head.last_hash, at=at, reason=reason)


@dataclass(frozen=True, slots=True)
class CheckpointCheck:
    """The log compared with a set of checkpoints."""

    checked: int
    problems: list[str] = field(default_factory=list)
    latest: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_log(
    db: Session,
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
    *,
    log_end: int,
) -> CheckpointCheck:
    """Every signed checkpoint must name an event still in the log, with the same hash.

    ``log_end`` is the last sequence number of the verified chain. A checkpoint
    past it means events were removed from the end (whatever the head row says);
    one whose event has another hash means the log was rewritten; a later
    checkpoint with a lower number means the log was rewound between the two.
    """
    problems: list[str] = []
    valid: list[Checkpoint] = []
    for cp in checkpoints:
        if cp.signature_valid(public_key):
            valid.append(cp)
        else:
            problems.append(
                f"checkpoint of {_iso(cp.at)} (event {cp.seq}) has no valid signature by key "
                f"{key_id_of(public_key)}: forged, altered, or signed by another key"
            )
    ordered = sorted(valid, key=lambda c: c.at)
    for earlier, later in itertools.pairwise(ordered):
        if later.seq < earlier.seq:
            problems.append(
                f"the log was rewound: the checkpoint of {_iso(later.at)} signed event "
                f"{later.seq}, after the one of {_iso(earlier.at)} had signed event {earlier.seq}"
            )
    for cp in ordered:
        if cp.seq == 0:
            if cp.hash != GENESIS_HASH:
                problems.append(f"checkpoint of {_iso(cp.at)} signs event 0 with a wrong hash")
            continue
        if cp.seq > log_end:
            what = "emptied" if log_end == 0 else f"cut short at event {log_end}"
            problems.append(
                f"the log was {what}: the checkpoint of {_iso(cp.at)} signed event {cp.seq} "
                f"(hash {cp.hash[:16]}…), which the log no longer holds"
            )
            continue
        stored = db.execute(select(AuditEvent.hash).where(AuditEvent.seq == cp.seq)).scalar()
        if stored != cp.hash:
            problems.append(
                f"the log was rewritten: event {cp.seq} has hash {str(stored)[:16]}… but the "
                f"checkpoint of {_iso(cp.at)} signed {cp.hash[:16]}…"
            )
    latest = max(ordered, key=lambda c: (c.at, c.seq)) if ordered else None
    return CheckpointCheck(checked=len(valid), problems=problems, latest=latest)


def chain_proof(db: Session, first_seq: int, last_seq: int) -> list[StoredEvent]:
    """Events ``first_seq..last_seq`` in order: with a checkpoint at ``last_seq`` they prove
    that event ``first_seq`` is in the signed log, unaltered (see :func:`verify_chain_proof`)."""
    from openlfr.audit.service import stored_event

    rows = db.execute(
        select(AuditEvent)
        .where(AuditEvent.seq >= first_seq, AuditEvent.seq <= last_seq)
        .order_by(AuditEvent.seq)
    ).scalars()
    return [stored_event(e) for e in rows]


def verify_chain_proof(
    events: Sequence[StoredEvent], checkpoint: Checkpoint, public_key: Ed25519PublicKey
) -> str | None:
    """None if ``events`` link, hash by hash, up to the signed ``checkpoint``; else why not."""
    if not checkpoint.signature_valid(public_key):
        return "the checkpoint's signature is not valid for this key"
    if not events:
        return "the proof holds no events"
    for before, after in itertools.pairwise(events):
        if after.content.seq != before.content.seq + 1 or after.prev_hash != before.hash:
            return f"event {after.content.seq} does not follow event {before.content.seq}"
    for event in events:
        if event_hash(event.prev_hash, event.content) != event.hash:
            return f"event {event.content.seq} does not match its hash"
    last = events[-1]
    if last.content.seq != checkpoint.seq or last.hash != checkpoint.hash:
        return f"the proof ends at event {last.content.seq}, not at checkpoint {checkpoint.seq}"
    return None
