"""One unit of work: a database session, who acts, when, and where biometric blobs live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from openlfr.storage.blobs import BlobStore


class ActorKind(StrEnum):
    USER = "user"
    TOKEN = "token"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs an action, as the audit log records it."""

    kind: ActorKind
    name: str
    user_id: int | None = None
    # Which credential acted: "session:<id>" or "token:<id>" (None for system work).
    credential: str | None = None
    # The person behind a user's account ("PC 1234 J. Smith"), as records name them.
    person: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(ActorKind.SYSTEM, name)

    @classmethod
    def anonymous(cls, name: str = "anonymous") -> Actor:
        return cls(ActorKind.ANONYMOUS, name)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Ctx:
    """Everything a service function needs for one transaction.

    ``now`` is read once per unit of work so every record and audit event it
    writes carries the same instant (and tests can move time at will).
    """

    db: Session
    actor: Actor
    now: datetime
    blobs: BlobStore


_CREATED = "openlfr.blobs_created"
_DROPPED = "openlfr.blobs_dropped"


def put_blob(ctx: Ctx, data: bytes, kind: str) -> str:
    """Store a sealed blob that lives only if the unit of work commits.

    The file is written now (so the row can name it) and removed again if the
    transaction rolls back; see :func:`track_blob_lifecycle`.
    """
    _in_transaction(ctx.db)
    blob_id = ctx.blobs.put(data, kind)
    ctx.db.info.setdefault(_CREATED, []).append((ctx.blobs, blob_id))
    return blob_id


def drop_blob(ctx: Ctx, blob_id: str) -> None:
    """Delete a blob once the unit of work that stopped referring to it has committed."""
    _in_transaction(ctx.db)
    ctx.db.info.setdefault(_DROPPED, []).append((ctx.blobs, blob_id))


def _in_transaction(db: Session) -> None:
    # The lifecycle hooks fire at the end of a transaction; make sure there is one.
    if db.get_transaction() is None:
        db.begin()


def track_blob_lifecycle(sessions: sessionmaker[Session]) -> None:
    """Tie blob files to transactions of sessions from ``sessions``.

    After a commit, dropped blobs are deleted and created ones kept; when a
    transaction ends without committing, created blobs are deleted and dropped
    ones kept. A crash between commit and deletion leaves an unreferenced,
    still-encrypted file that the retention job's orphan sweep removes.
    """

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        session.info.pop(_CREATED, None)
        for store, blob_id in session.info.pop(_DROPPED, []):
            store.delete(blob_id)

    @event.listens_for(sessions, "after_transaction_end")
    def _after_end(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return
        session.info.pop(_DROPPED, None)
        for store, blob_id in session.info.pop(_CREATED, []):
            store.delete(blob_id)
