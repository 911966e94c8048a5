"""``openlfr keys rotate``: re-seal every blob, template and sealed field under a new data key.

Crash-safe by construction: the new key is written beside the old one and named
in the database before anything is re-sealed; each item is re-sealed in place
(a blob file atomically, a row in its own committed batch) and skipped when it
is already under the new key; only when everything is done does the database
switch to the new key and the key file get replaced. An interrupted rotation
leaves every item readable by one of the two keys (openlfr opens both meanwhile)
and running the command again finishes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config import Settings
from openlfr.privacy import keys
from openlfr.privacy.crypto import (
    KEY_ENV,
    BlobCipher,
    DataKeyError,
    DecryptionError,
    key_fingerprint,
    new_key,
    read_key,
    write_key,
)
from openlfr.privacy.sealed import LOCAL_WATCHLIST_PURPOSE, SEALED_BLOBS, SEALED_FIELDS
from openlfr.storage.blobs import BlobNotFound, BlobStore
from openlfr.storage.context import Actor
from openlfr.storage.engine import Database

_BATCH = 200
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RotationReport:
    old_fingerprint: str
    new_fingerprint: str
    blobs: int
    fields: int
    local_files: int
    already_done: int
    missing_blobs: int
    resumed: bool


def _no_progress(_: str) -> None:
    return None


def rotate(
    settings: Settings,
    database: Database,
    *,
    actor: Actor,
    now: Callable[[], datetime],
    progress: Progress = _no_progress,
) -> RotationReport:
    """Re-seal everything under a new key (or finish an interrupted rotation)."""
    if os.environ.get(KEY_ENV):
        raise DataKeyError(
            f"the data key comes from {KEY_ENV}: rotate with a key file (unset it, put the key in "
            f"{settings.resolved_key_file}), then set the new key where it belongs"
        )
    key_file = settings.resolved_key_file
    pending = keys.pending_key_path(key_file)
    with database.session() as db:
        keys.open_data_cipher(key_file, settings.blob_dir, settings.watchlist_dir, db)  # checks
        row = keys.recorded(db)
        if row is None:
            raise DataKeyError("the database has no data key recorded: run 'openlfr db upgrade'")
        old = read_key(key_file)
        assert old is not None
        resumed = row.rotating_to is not None
        if resumed:
            new = keys.read_key_file(pending)
            assert new is not None  # open_data_cipher checked it
        else:
            # A leftover from a crash before the database named it sealed nothing: replace it.
            pending.unlink(missing_ok=True)
            new = new_key()
            write_key(pending, new)
            row.rotating_to = key_fingerprint(new)
            audit.append(
                db,
                actor,
                now(),
                Action.KEYS_ROTATION_STARTED,
                entity_type="data_key",
                details={"from": row.fingerprint, "to": row.rotating_to},
            )
    opener, sealer = BlobCipher(new, previous=old), BlobCipher(new)
    counts = _Counts()
    _reseal_blobs(database, BlobStore(settings.blob_dir, opener), opener, sealer, counts, progress)
    _reseal_fields(database, opener, sealer, counts, progress)
    _reseal_local(settings.watchlist_dir, opener, sealer, counts, progress)
    old_fp, new_fp = key_fingerprint(old), key_fingerprint(new)
    with database.session() as db:
        row = keys.recorded(db)
        assert row is not None
        row.fingerprint, row.rotating_to, row.rotated_at = new_fp, None, now()
        audit.append(
            db,
            actor,
            now(),
            Action.KEYS_ROTATED,
            entity_type="data_key",
            details={
                "from": old_fp,
                "to": new_fp,
                "blobs": counts.blobs,
                "fields": counts.fields,
                "local_files": counts.local,
                "missing_blobs": counts.missing,
                "resumed": resumed,
            },
        )
    pending.replace(key_file)  # the database already names the new key: see open_data_cipher
    _sync_dir(key_file.parent)
    return RotationReport(
        old_fp,
        new_fp,
        counts.blobs,
        counts.fields,
        counts.local,
        counts.done,
        counts.missing,
        resumed,
    )


@dataclass
class _Counts:
    blobs: int = 0
    fields: int = 0
    local: int = 0
    done: int = 0
    missing: int = 0


def _reseal_blobs(
    database: Database,
    store: BlobStore,
    opener: BlobCipher,
    sealer: BlobCipher,
    counts: _Counts,
    progress: Progress,
) -> None:
    for ref in SEALED_BLOBS:
        with database.session() as db:
            ids = [
                str(v)
                for v in db.execute(
                    text(f"SELECT {ref.column} FROM {ref.table} WHERE {ref.column} IS NOT NULL")
                ).scalars()
            ]
        for blob_id in ids:
            purpose = store.purpose(ref.kind, blob_id)
            try:
                sealed = store.read_sealed(blob_id)
            except BlobNotFound:
                counts.missing += 1
                continue
            if sealer.opens_with_current_key(sealed, purpose):
                counts.done += 1
                continue
            store.write_sealed(blob_id, sealer.seal(opener.open(sealed, purpose), purpose))
            counts.blobs += 1
            progress(f"blob {blob_id}")


def _reseal_fields(
    database: Database, opener: BlobCipher, sealer: BlobCipher, counts: _Counts, progress: Progress
) -> None:
    for field in SEALED_FIELDS:
        names = ", ".join((field.key, field.column, *field.reads))
        after: object = None
        while True:
            with database.session() as db:
                where = "" if after is None else f"WHERE {field.key} > :after "
                rows = (
                    db.execute(
                        text(
                            f"SELECT {names} FROM {field.table} {where}"
                            f"ORDER BY {field.key} LIMIT {_BATCH}"
                        ),
                        {"after": after},
                    )
                    .mappings()
                    .all()
                )
                if not rows:
                    break
                for row in rows:
                    if row[field.column] is None:  # nothing sealed here (e.g. no credentials)
                        continue
                    value = bytes(row[field.column])
                    purpose = field.purpose(dict(row))
                    if sealer.opens_with_current_key(value, purpose):
                        counts.done += 1
                        continue
                    resealed = sealer.seal(opener.open(value, purpose), purpose)
                    db.execute(
                        text(
                            f"UPDATE {field.table} SET {field.column} = :v WHERE {field.key} = :k"
                        ),
                        {"v": resealed, "k": row[field.key]},
                    )
                    counts.fields += 1
                    progress(f"{field.table}.{field.column} {row[field.key]}")
                after = rows[-1][field.key]


def _reseal_local(
    folder: Path, opener: BlobCipher, sealer: BlobCipher, counts: _Counts, progress: Progress
) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.olfw")):
        purpose = LOCAL_WATCHLIST_PURPOSE.format(name=path.name[: -len(".olfw")])
        sealed = path.read_bytes()
        if sealer.opens_with_current_key(sealed, purpose):
            counts.done += 1
            continue
        try:
            plain = opener.open(sealed, purpose)
        except DecryptionError as exc:
            raise DataKeyError(f"{path} opens with neither key: {exc}") from None
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.write_bytes(sealer.seal(plain, purpose))
        os.replace(tmp, path)
        counts.local += 1
        progress(f"local {path.name}")


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
