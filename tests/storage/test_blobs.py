"""The sealed blob store, and blob files that live and die with their transaction."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openlfr.privacy.crypto import BlobCipher, DecryptionError
from openlfr.storage.blobs import BlobNotFound, BlobStore
from openlfr.storage.context import Actor, Ctx, drop_blob, put_blob
from openlfr.storage.engine import Database


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", BlobCipher(secrets.token_bytes(32)))


def _files(store: BlobStore) -> list[Path]:
    return sorted(store.root.rglob("*.blob"))


def test_round_trip_and_nothing_readable_on_disk(blobs: BlobStore) -> None:
    data = b"\xff\xd8\xff" + secrets.token_bytes(4000)
    blob_id = blobs.put(data, "reference-image")
    assert blobs.get(blob_id, "reference-image") == data
    (path,) = _files(blobs)
    on_disk = path.read_bytes()
    assert data[:64] not in on_disk and data[-64:] not in on_disk
    assert blobs.exists(blob_id)
    assert blobs.delete(blob_id) and not blobs.delete(blob_id)
    with pytest.raises(BlobNotFound):
        blobs.get(blob_id, "reference-image")


def test_kind_and_id_are_bound_to_the_ciphertext(blobs: BlobStore) -> None:
    a = blobs.put(b"first", "alert-crop")
    b = blobs.put(b"second", "alert-crop")
    with pytest.raises(DecryptionError):
        blobs.get(a, "reference-image")
    # Swapping two files on disk makes both fail rather than show the wrong face.
    pa, pb = (blobs.root / a[:2] / f"{a}.blob"), (blobs.root / b[:2] / f"{b}.blob")
    da, db = pa.read_bytes(), pb.read_bytes()
    pa.write_bytes(db)
    pb.write_bytes(da)
    with pytest.raises(DecryptionError):
        blobs.get(a, "alert-crop")


def test_a_blob_sealed_under_another_key_does_not_open(tmp_path: Path) -> None:
    one = BlobStore(tmp_path, BlobCipher(secrets.token_bytes(32)))
    blob_id = one.put(b"secret face", "alert-crop")
    other = BlobStore(tmp_path, BlobCipher(secrets.token_bytes(32)))
    with pytest.raises(DecryptionError):
        other.get(blob_id, "alert-crop")


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "ABCDEF", "0" * 31, "g" * 32])
def test_malformed_ids_are_refused(blobs: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError, match="malformed blob id"):
        blobs.get(bad, "alert-crop")


def test_inline_values_are_bound_to_their_purpose(blobs: BlobStore) -> None:
    sealed = blobs.seal_inline(b"\x00\x01" * 64, "template:abc")
    assert b"\x00\x01" * 8 not in sealed
    assert blobs.open_inline(sealed, "template:abc") == b"\x00\x01" * 64
    with pytest.raises(DecryptionError):
        blobs.open_inline(sealed, "template:abd")


def _ctx(database: Database, blobs: BlobStore, session: object) -> Ctx:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    return Ctx(db=session, actor=Actor.system("t"), now=datetime.now(UTC), blobs=blobs)


def test_blobs_written_in_a_rolled_back_unit_are_removed(
    database: Database, blobs: BlobStore
) -> None:
    with pytest.raises(RuntimeError), database.session() as s:
        put_blob(_ctx(database, blobs, s), b"face", "alert-crop")
        assert len(_files(blobs)) == 1
        raise RuntimeError("the row was never stored")
    assert _files(blobs) == []


def test_blobs_dropped_are_deleted_only_after_commit(database: Database, blobs: BlobStore) -> None:
    with database.session() as s:
        kept = put_blob(_ctx(database, blobs, s), b"face", "alert-crop")
    assert blobs.exists(kept)
    with pytest.raises(RuntimeError), database.session() as s:
        drop_blob(_ctx(database, blobs, s), kept)
        raise RuntimeError("the delete of the row rolled back")
    assert blobs.exists(kept)
    with database.session() as s:
        drop_blob(_ctx(database, blobs, s), kept)
        assert blobs.exists(kept)  # not before the commit
    assert not blobs.exists(kept)


def test_stored_lists_every_blob_with_its_age(blobs: BlobStore) -> None:
    ids = {blobs.put(bytes([i]), "alert-crop") for i in range(3)}
    listed = dict(blobs.stored())
    assert set(listed) == ids
    assert all(t.tzinfo is not None for t in listed.values())
