"""Which data key a home's sealed data needs: refuse a missing or wrong key, create only the first.

The database keeps the current key's fingerprint (an HMAC that reveals nothing
of the key), so a key file swapped, lost or regenerated is caught when openlfr
starts, not when an officer opens the first sealed image. A home that holds no
sealed data yet (first initialisation) is the only place a key is ever created.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Integer, String, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from openlfr.privacy.crypto import (
    KEY_ENV,
    BlobCipher,
    DataKeyError,
    decode_key,
    key_fingerprint,
    new_key,
    read_key,
    write_key,
)
from openlfr.storage.base import Base, UTCDateTime
from openlfr.storage.blobs import SUFFIX as BLOB_SUFFIX

# Tables whose rows hold sealed values or refer to sealed blobs (see privacy/sealed.py).
_SEALED_TABLES = ("reference_images", "alerts", "webhook_subscriptions")


class DataKeyRecord(Base):
    """The fingerprint of the key this database's sealed data is under (one row).

    ``rotating_to`` names the new key while ``openlfr keys rotate`` is re-sealing.
    """

    __tablename__ = "data_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rotating_to: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def pending_key_path(key_file: Path) -> Path:
    """Where a rotation keeps the new key until every sealed value is under it."""
    return key_file.with_name(key_file.name + ".new")


def sealed_files(blob_dir: Path, watchlist_dir: Path) -> int:
    """How many sealed files a home holds (blobs, the CLI's local watchlists)."""
    count = 0
    if blob_dir.is_dir():
        count += sum(1 for _ in blob_dir.glob(f"??/*{BLOB_SUFFIX}"))
    if watchlist_dir.is_dir():
        count += sum(1 for _ in watchlist_dir.glob("*.olfw"))
    return count


def _table_exists(db: Session, name: str) -> bool:
    return inspect(db.connection()).has_table(name)


def sealed_rows(db: Session) -> int:
    """Rows that hold sealed values or name sealed blobs."""
    total = 0
    for table in _SEALED_TABLES:
        if _table_exists(db, table):
            total += int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    return total


def recorded(db: Session) -> DataKeyRecord | None:
    if not _table_exists(db, DataKeyRecord.__tablename__):
        return None
    return db.get(DataKeyRecord, 1)


def record_fingerprint(db: Session, fingerprint: str, *, now: datetime | None = None) -> None:
    """Remember the key ``fingerprint`` names as this database's, if none is recorded yet."""
    if not _table_exists(db, DataKeyRecord.__tablename__) or recorded(db) is not None:
        return
    db.add(DataKeyRecord(id=1, fingerprint=fingerprint, recorded_at=now or datetime.now(UTC)))
    db.flush()


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the home holds, as far as the key is concerned."""

    sealed_files: int
    sealed_rows: int
    fingerprint: str | None
    rotating_to: str | None

    @property
    def holds_sealed_data(self) -> bool:
        return bool(self.sealed_files or self.sealed_rows or self.fingerprint)


def inspect_home(blob_dir: Path, watchlist_dir: Path, db: Session | None) -> KeyState:
    rows, fingerprint, rotating = 0, None, None
    if db is not None:
        try:
            rows = sealed_rows(db)
            row = recorded(db)
        except SQLAlchemyError as exc:
            raise DataKeyError(
                f"cannot read the database to check the data key: {type(exc).__name__}"
            ) from None
        if row is not None:
            fingerprint, rotating = row.fingerprint, row.rotating_to
    return KeyState(sealed_files(blob_dir, watchlist_dir), rows, fingerprint, rotating)


def open_data_cipher(
    key_file: Path, blob_dir: Path, watchlist_dir: Path, db: Session | None
) -> BlobCipher:
    """The cipher for this home's sealed data, or a :class:`DataKeyError` that says what to do.

    - no key, no sealed data: first initialisation, a new key is written;
    - no key, sealed data: refused (a new key could never open it);
    - a key whose fingerprint is not the recorded one: refused (the wrong key);
    - an interrupted rotation: the recorded key opens old values, the new key
      (kept beside the key file) the re-sealed ones, until ``openlfr keys rotate``
      finishes.
    """
    state = inspect_home(blob_dir, watchlist_dir, db)
    key = read_key(key_file)
    source = KEY_ENV if _from_env() else f"key file {key_file}"
    if key is None:
        if state.holds_sealed_data:
            raise DataKeyError(
                f"this home holds sealed data ({_describe(state)}) but its data key {key_file} "
                f"is missing: restore the key from your backup (or set {KEY_ENV}). openlfr will "
                "not make a new key, which could never open that data"
            )
        key = new_key()
        write_key(key_file, key)
    pending = pending_key_path(key_file)
    if state.rotating_to is not None:
        new = read_key_file(pending)
        if new is None or key_fingerprint(new) != state.rotating_to:
            raise DataKeyError(
                f"a key rotation was interrupted and its new key {pending} is missing or not "
                "the one being rotated to: restore it, then run 'openlfr keys rotate' again"
            )
        if state.fingerprint is not None and key_fingerprint(key) != state.fingerprint:
            raise _wrong_key(source, state)
        return BlobCipher(key, previous=new)
    if state.fingerprint is not None and key_fingerprint(key) != state.fingerprint:
        new = read_key_file(pending)
        if new is not None and key_fingerprint(new) == state.fingerprint:
            # A rotation finished in the database, not yet on disk: complete it.
            pending.replace(key_file)
            return BlobCipher(new)
        raise _wrong_key(source, state)
    if db is not None:
        record_fingerprint(db, key_fingerprint(key))
    return BlobCipher(key)


def read_key_file(path: Path) -> bytes | None:
    """A key file's key, ignoring the environment variable."""
    if not path.exists():
        return None
    return decode_key(path.read_bytes(), f"key file {path}")


def _from_env() -> bool:
    return bool(os.environ.get(KEY_ENV))


def _describe(state: KeyState) -> str:
    parts = []
    if state.sealed_files:
        parts.append(f"{state.sealed_files} sealed files")
    if state.sealed_rows:
        parts.append(f"{state.sealed_rows} database rows with sealed values")
    if state.fingerprint and not parts:
        parts.append("a recorded key fingerprint")
    return ", ".join(parts)


def _wrong_key(source: str, state: KeyState) -> DataKeyError:
    return DataKeyError(
        f"the data key from {source} is not the key this home's data is sealed with "
        f"(fingerprint {state.fingerprint}): use the original key file, or the data cannot be "
        "opened"
    )


def current_fingerprint(db: Session) -> str | None:
    return db.execute(select(DataKeyRecord.fingerprint).where(DataKeyRecord.id == 1)).scalar()
