"""AES-256-GCM for biometric data at rest, with the key held outside the data store."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"OLFR1"
_NONCE_BYTES = 12
KEY_ENV = "OPENLFR_DATA_KEY"


class DataKeyError(RuntimeError):
    """The data key is missing, malformed or unreadable."""


class DecryptionError(RuntimeError):
    """Ciphertext was altered, truncated, or sealed under another key or purpose."""


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte data key: from ``OPENLFR_DATA_KEY`` (base64), else ``path``.

    A missing key file is created with a fresh random key, readable by its
    owner only. Keeping it apart from the data means a copied store is useless
    without it.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        try:
            key = base64.b64decode(env, validate=True)
        except binascii.Error as exc:
            raise DataKeyError(f"{KEY_ENV} is not valid base64") from exc
        if len(key) != 32:
            raise DataKeyError(f"{KEY_ENV} must decode to 32 bytes, got {len(key)}")
        return key
    if path.exists():
        key = base64.b64decode(path.read_bytes().strip())
        if len(key) != 32:
            raise DataKeyError(f"key file {path} must hold 32 base64-encoded bytes")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(key) + b"\n")
    return key


class BlobCipher:
    """Seals and opens byte blobs; ``purpose`` binds a blob to where it belongs.

    Format: ``OLFR1 || nonce(12) || ciphertext+tag``. The purpose string is
    authenticated associated data, so a blob moved to another record fails to open.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _MAGIC + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def open(self, blob: bytes, purpose: str) -> bytes:
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _NONCE_BYTES + 16:
            raise DecryptionError("not an openlfr encrypted blob")
        nonce = blob[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[len(_MAGIC) + _NONCE_BYTES :], purpose.encode())
        except InvalidTag as exc:
            raise DecryptionError(
                "blob failed authentication: altered, or sealed under another key or purpose"
            ) from exc
