"""AES-GCM sealing and the data key's sources."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from openlfr.privacy.crypto import BlobCipher, DataKeyError, DecryptionError, load_or_create_key


def test_seal_and_open_round_trip_with_fresh_nonces() -> None:
    cipher = BlobCipher(b"\x01" * 32)
    a = cipher.seal(b"template bytes", "watchlist:x")
    b = cipher.seal(b"template bytes", "watchlist:x")
    assert a != b and b"template bytes" not in a
    assert cipher.open(a, "watchlist:x") == b"template bytes"


def test_wrong_purpose_or_garbage_fails() -> None:
    cipher = BlobCipher(b"\x01" * 32)
    blob = cipher.seal(b"x", "alert:1")
    with pytest.raises(DecryptionError):
        cipher.open(blob, "alert:2")
    with pytest.raises(DecryptionError):
        cipher.open(b"plain text", "alert:1")


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "data.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = bytes(range(32))
    monkeypatch.setenv("OPENLFR_DATA_KEY", base64.b64encode(key).decode())
    assert load_or_create_key(tmp_path / "unused.key") == key
    assert not (tmp_path / "unused.key").exists()
    monkeypatch.setenv("OPENLFR_DATA_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(DataKeyError, match="32 bytes"):
        load_or_create_key(tmp_path / "unused.key")
    monkeypatch.setenv("OPENLFR_DATA_KEY", "not base64!!")
    with pytest.raises(DataKeyError, match="base64"):
        load_or_create_key(tmp_path / "unused.key")
