"""Biometric blobs (reference images, alert crops) as AES-GCM sealed files outside the database."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from openlfr.privacy.crypto import BlobCipher

_ID = re.compile(r"^[0-9a-f]{32}$")
SUFFIX = ".blob"


def inline_purpose(purpose: str) -> str:
    """The associated data of a value sealed in a database row (see ``seal_inline``)."""
    return f"inline:{purpose}"


class BlobNotFound(LookupError):
    """No blob with that id (never written, or already purged)."""


class BlobStore:
    """Sealed files under ``root``, named by a random id and fanned out by its first byte.

    The database keeps only the id. Each blob is sealed with its kind and id as
    associated data, so a file renamed or swapped for another fails to open. The
    key never enters this folder or the database.
    """

    def __init__(self, root: Path, cipher: BlobCipher) -> None:
        self._root = root
        self._cipher = cipher

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, blob_id: str) -> Path:
        if not _ID.match(blob_id):
            raise ValueError(f"malformed blob id {blob_id!r}")
        return self._root / blob_id[:2] / f"{blob_id}{SUFFIX}"

    @staticmethod
    def purpose(kind: str, blob_id: str) -> str:
        """The associated data a blob of ``kind`` is sealed with."""
        return f"blob:{kind}:{blob_id}"

    def put(self, data: bytes, kind: str) -> str:
        """Seal and store ``data``; returns the new blob's id. Written atomically."""
        blob_id = secrets.token_hex(16)
        self.write_sealed(blob_id, self._cipher.seal(data, self.purpose(kind, blob_id)))
        return blob_id

    def read_sealed(self, blob_id: str) -> bytes:
        """A blob's sealed bytes as stored (for re-sealing under a new key)."""
        try:
            return self._path(blob_id).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {blob_id} not found (purged?)") from None

    def write_sealed(self, blob_id: str, sealed: bytes) -> None:
        """Store already sealed bytes under ``blob_id``, atomically (old or new, never half)."""
        path = self._path(blob_id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(sealed)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, blob_id: str, kind: str) -> bytes:
        """The plaintext of a blob; :class:`BlobNotFound` if it is gone."""
        try:
            sealed = self._path(blob_id).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {blob_id} not found (purged?)") from None
        return self._cipher.open(sealed, self.purpose(kind, blob_id))

    def seal_inline(self, data: bytes, purpose: str) -> bytes:
        """Seal a small value kept in a database row (a template), bound to ``purpose``."""
        return self._cipher.seal(data, inline_purpose(purpose))

    def open_inline(self, sealed: bytes, purpose: str) -> bytes:
        return self._cipher.open(sealed, inline_purpose(purpose))

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).is_file()

    def delete(self, blob_id: str) -> bool:
        """Remove a blob; False if there was none."""
        try:
            self._path(blob_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every stored blob id with its file's modification time (UTC)."""
        if not self._root.is_dir():
            return
        for path in self._root.glob(f"??/*{SUFFIX}"):
            blob_id = path.name[: -len(SUFFIX)]
            if _ID.match(blob_id):
                try:
                    mtime = path.stat().st_mtime
                except FileNotFoundError:
                    continue
                yield blob_id, datetime.fromtimestamp(mtime, UTC)
