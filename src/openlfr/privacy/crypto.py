"""AES-256-GCM for biometric data at rest, with the key held outside the data store."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
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


def decode_key(raw: bytes | str, where: str) -> bytes:
    """32 key bytes from base64 text; :class:`DataKeyError` naming ``where`` otherwise."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DataKeyError(f"{where} is not a base64-encoded key") from None
    if len(key) != 32:
        raise DataKeyError(f"{where} must decode to 32 bytes, it decodes to {len(key)}")
    return key


def read_key(path: Path) -> bytes | None:
    """The 32-byte data key from ``OPENLFR_DATA_KEY`` (base64), else ``path``; None if neither.

    A file that exists but is not a key is a :class:`DataKeyError` with a clear
    message, never a new key.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return decode_key(env, KEY_ENV)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataKeyError(f"key file {path} cannot be read: {exc.strerror or exc}") from None
    return decode_key(raw, f"key file {path}")


def write_key(path: Path, key: bytes) -> None:
    """Write a key file readable by its owner only; refuses to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(key) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def new_key() -> bytes:
    return secrets.token_bytes(32)


def key_fingerprint(key: bytes) -> str:
    """A stable name for a key that reveals nothing about it (kept with the data)."""
    return hmac.new(key, b"openlfr data key fingerprint v1", hashlib.sha256).hexdigest()[:32]


def load_or_create_key(path: Path) -> bytes:
    """The data key (see :func:`read_key`), or a new one written to ``path`` if there is none.

    Only for a home that holds no sealed data: :func:`openlfr.privacy.keys.open_data_key`
    decides that before anything is created.
    """
    key = read_key(path)
    if key is None:
        key = new_key()
        write_key(path, key)
    return key


class BlobCipher:
    """Seals and opens byte blobs; ``purpose`` binds a blob to where it belongs.

    Format: ``OLFR1 || nonce(12) || ciphertext+tag``. The purpose string is
    authenticated associated data, so a blob moved to another record fails to open.
    """

    def __init__(self, key: bytes, *, previous: bytes | None = None) -> None:
        # ``previous``: during an interrupted key rotation, what is not yet re-sealed.
        self._aead = AESGCM(key)
        self.fingerprint = key_fingerprint(key)
        self._previous = None if previous is None else AESGCM(previous)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _MAGIC + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def open(self, blob: bytes, purpose: str) -> bytes:
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + _NONCE_BYTES + 16:
            raise DecryptionError("not an openlfr encrypted blob")
        nonce = blob[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        body = blob[len(_MAGIC) + _NONCE_BYTES :]
        for aead in (self._aead, self._previous):
            if aead is None:
                continue
            try:
                return aead.decrypt(nonce, body, purpose.encode())
            except InvalidTag:
                continue
        raise DecryptionError(
            "blob failed authentication: altered, or sealed under another key or purpose"
        )

    def opens_with_current_key(self, blob: bytes, purpose: str) -> bool:
        """True if ``blob`` is sealed under this cipher's current key (not the previous one)."""
        nonce = blob[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        try:
            self._aead.decrypt(nonce, blob[len(_MAGIC) + _NONCE_BYTES :], purpose.encode())
        except InvalidTag:
            return False
        return True
