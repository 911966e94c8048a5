"""The worker's spool: durable, sealed at rest, bounded, ordered, purged by deployment."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openlfr.privacy.crypto import BlobCipher
from openlfr.workers.protocol import AlertDelivery
from openlfr.workers.spool import Spool, SpoolFull

CROP_MARKER = "UHJvYmVGYWNlQ3JvcEJ5dGVz"  # base64 of b"ProbeFaceCropBytes"


def alert(uid: str, deployment_id: int = 1) -> AlertDelivery:
    return AlertDelivery(
        uid=uid,
        deployment_id=deployment_id,
        camera="cam-1",
        subject_id="4",
        score=0.7,
        track_id="3",
        captured_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        crop=CROP_MARKER,
    )


@pytest.fixture
def cipher() -> BlobCipher:
    return BlobCipher(secrets.token_bytes(32))


def test_entries_survive_reopening_and_come_out_oldest_first(
    tmp_path: Path, cipher: BlobCipher
) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path, cipher)
    for i in range(3):
        spool.put(alert(f"alert-{i:04d}"))
    spool.put(alert("alert-0001"))  # the same uid again is kept once
    spool.close()
    again = Spool(path, cipher)
    seen = []
    while (entry := again.oldest()) is not None:
        seen.append(entry.alert.uid)
        again.delete(entry.seq)
    assert seen == ["alert-0000", "alert-0001", "alert-0002"]
    assert again.stats().accepted == 3 and again.stats().depth == 0


def test_the_file_holds_no_crop_or_subject_in_the_clear(tmp_path: Path, cipher: BlobCipher) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", cipher)
    spool.put(alert("alert-sealed"))
    spool.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert CROP_MARKER.encode() not in raw and b"ProbeFaceCropBytes" not in raw
    assert b'"subject_id"' not in raw and b"cam-1" not in raw
    with pytest.raises(Exception, match="authentication"):
        Spool(tmp_path / "spool.sqlite3", BlobCipher(secrets.token_bytes(32))).oldest()


def test_a_full_spool_refuses_and_counts_rather_than_drop_silently(
    tmp_path: Path, cipher: BlobCipher
) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", cipher, capacity=2)
    spool.put(alert("alert-aaa"))
    spool.put(alert("alert-bbb"))
    with pytest.raises(SpoolFull):
        spool.put(alert("alert-ccc"))
    stats = spool.stats()
    assert (stats.depth, stats.refused, stats.accepted) == (2, 1, 2)


def test_closing_a_deployment_purges_only_its_entries(tmp_path: Path, cipher: BlobCipher) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", cipher)
    spool.put(alert("alert-d1", 1))
    spool.put(alert("alert-d2", 2))
    assert spool.purge_deployment(1) == 1
    entry = spool.oldest()
    assert entry is not None and entry.alert.deployment_id == 2
    assert spool.deployments() == [2]
