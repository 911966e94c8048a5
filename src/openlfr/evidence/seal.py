"""Sealing a zip file with an Ed25519 signature over every one of its bytes (in its comment).

A sealed pack is an ordinary zip (any unzip tool opens it) whose archive
comment is ``openlfr-evidence-seal/1:<key_id>:<base64 signature>``. The
signature covers the file exactly as written before the comment was added:
every byte but the comment, with the comment-length field of the end-of-
central-directory record at zero. So an altered byte anywhere (an image, the
manifest, a header, a date, the signature itself) fails verification.
"""

from __future__ import annotations

import base64
import binascii
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openlfr.audit.checkpoints import SigningKey, key_id_of

PREFIX = b"openlfr-evidence-seal/1:"
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22


class SealError(ValueError):
    """The file is not a sealed pack, or its seal does not hold (the message says why)."""


def seal(unsealed_zip: bytes, key: SigningKey) -> bytes:
    """Append the seal to a zip written without a comment."""
    at = len(unsealed_zip) - _EOCD_SIZE
    if at < 0 or unsealed_zip[at : at + 4] != _EOCD or unsealed_zip[-2:] != b"\0\0":
        raise SealError("only a zip with no archive comment can be sealed")
    signature = base64.b64encode(key.sign_bytes(unsealed_zip))
    comment = PREFIX + key.key_id.encode() + b":" + signature
    return unsealed_zip[:-2] + struct.pack("<H", len(comment)) + comment


def unseal(data: bytes) -> tuple[bytes, str, bytes]:
    """The signed bytes, the signer's key id and the signature; :class:`SealError` if absent."""
    at = data.rfind(_EOCD)
    if at < 0 or len(data) < at + _EOCD_SIZE:
        raise SealError("not a zip file (no end-of-central-directory record)")
    (length,) = struct.unpack("<H", data[at + 20 : at + 22])
    comment = data[at + _EOCD_SIZE :]
    if len(comment) != length:
        raise SealError("the zip's comment length does not match its end (bytes added or cut)")
    if not comment.startswith(PREFIX):
        raise SealError("the pack carries no openlfr seal")
    try:
        key_id, encoded = comment[len(PREFIX) :].split(b":", 1)
        signature = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise SealError("the seal is malformed") from None
    signed = data[: at + 20] + b"\0\0"
    return signed, key_id.decode("ascii", "replace"), signature


def check(data: bytes, public_key: Ed25519PublicKey) -> None:
    """Raise :class:`SealError` unless ``public_key`` sealed exactly these bytes."""
    signed, key_id, signature = unseal(data)
    if key_id != key_id_of(public_key):
        raise SealError(f"sealed by key {key_id}, not by key {key_id_of(public_key)}")
    try:
        public_key.verify(signature, signed)
    except InvalidSignature:
        raise SealError("the seal's signature does not match the file: it was altered") from None
