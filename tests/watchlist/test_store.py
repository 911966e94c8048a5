"""The local watchlist store: round trip, encryption at rest, tamper and key checks."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from openlfr.privacy.crypto import BlobCipher, DecryptionError
from openlfr.types import FaceQuality
from openlfr.watchlist import LocalWatchlistStore, Template, Watchlist, WatchlistNotFound


def template(seed: int) -> Template:
    v = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    return Template(
        embedding=v / np.linalg.norm(v),
        source_name=f"photo{seed}.jpg",
        source_sha256="ab" * 32,
        quality=FaceQuality(50.0, 300.0, 1.0, 2.0, 0.5, 0.93),
        enrolled_at=datetime(2026, 1, 2, tzinfo=UTC),
    )


def sample() -> Watchlist:
    wl = Watchlist(name="op-ember", model_id="sface-2021dec", dim=128)
    return wl.with_templates("s1", [template(1), template(2)]).with_templates("s2", [template(3)])


def test_round_trip_keeps_every_template(tmp_path: Path) -> None:
    store = LocalWatchlistStore(tmp_path, BlobCipher(b"k" * 32))
    wl = sample()
    store.save(wl)
    loaded = store.load("op-ember")
    assert store.names() == ["op-ember"]
    assert [len(s.templates) for s in loaded.subjects] == [2, 1]
    for a, b in zip(wl.subjects, loaded.subjects, strict=True):
        for ta, tb in zip(a.templates, b.templates, strict=True):
            np.testing.assert_array_equal(ta.embedding, tb.embedding)
            assert ta.quality == tb.quality and ta.enrolled_at == tb.enrolled_at


def test_no_embedding_bytes_are_readable_on_disk(tmp_path: Path) -> None:
    store = LocalWatchlistStore(tmp_path, BlobCipher(b"k" * 32))
    wl = sample()
    store.save(wl)
    raw = (tmp_path / "op-ember.olfw").read_bytes()
    for subject in wl.subjects:
        for t in subject.templates:
            vector = t.embedding.astype("<f4").tobytes()
            assert vector[:16] not in raw
            assert base64.b64encode(vector)[:16] not in raw
    assert b"photo1.jpg" not in raw  # provenance is sealed too


def test_another_key_or_a_tampered_file_cannot_be_opened(tmp_path: Path) -> None:
    LocalWatchlistStore(tmp_path, BlobCipher(b"k" * 32)).save(sample())
    with pytest.raises(DecryptionError):
        LocalWatchlistStore(tmp_path, BlobCipher(b"j" * 32)).load("op-ember")
    path = tmp_path / "op-ember.olfw"
    data = bytearray(path.read_bytes())
    data[40] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DecryptionError):
        LocalWatchlistStore(tmp_path, BlobCipher(b"k" * 32)).load("op-ember")


def test_a_file_renamed_to_another_watchlist_does_not_open(tmp_path: Path) -> None:
    store = LocalWatchlistStore(tmp_path, BlobCipher(b"k" * 32))
    store.save(sample())
    (tmp_path / "op-ember.olfw").rename(tmp_path / "op-other.olfw")
    with pytest.raises(DecryptionError):
        store.load("op-other")


def test_missing_and_deleted(tmp_path: Path) -> None:
    store = LocalWatchlistStore(tmp_path / "absent", BlobCipher(b"k" * 32))
    assert store.names() == []
    with pytest.raises(WatchlistNotFound):
        store.load("nope")
    store.save(sample())
    assert store.delete("op-ember") is True
    assert store.delete("op-ember") is False
    assert store.names() == []


def test_removing_a_subject_keeps_the_others(tmp_path: Path) -> None:
    store = LocalWatchlistStore(tmp_path, BlobCipher(b"k" * 32))
    store.save(sample().without_subject("s1"))
    assert [s.subject_id for s in store.load("op-ember").subjects] == ["s2"]
