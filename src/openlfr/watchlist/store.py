"""Watchlist persistence behind an interface; the local store seals each file with AES-GCM."""

from __future__ import annotations

import abc
import base64
import json
import os
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.privacy.crypto import BlobCipher
from openlfr.types import FaceQuality
from openlfr.watchlist.models import Subject, Template, Watchlist, validate_name


class WatchlistNotFound(LookupError):
    """No watchlist by that name."""


class WatchlistStore(abc.ABC):
    """Where watchlists live. Saving is all-or-nothing."""

    @abc.abstractmethod
    def names(self) -> list[str]:
        """Every stored watchlist's name, sorted."""

    @abc.abstractmethod
    def load(self, name: str) -> Watchlist:
        """The named watchlist; :class:`WatchlistNotFound` if there is none."""

    @abc.abstractmethod
    def save(self, watchlist: Watchlist) -> None:
        """Store ``watchlist`` atomically: readers see the old or the new, never a mix."""

    @abc.abstractmethod
    def delete(self, name: str) -> bool:
        """Remove the watchlist and its templates; False if there was none."""

    def exists(self, name: str) -> bool:
        return name in self.names()


class LocalWatchlistStore(WatchlistStore):
    """One encrypted file per watchlist under ``root`` (``<name>.olfw``).

    The file holds the templates and their provenance, sealed with AES-GCM with
    the watchlist's name as associated data; no reference image is stored.
    Writes go to a temporary file in the same folder and are renamed into place.
    """

    SUFFIX = ".olfw"

    def __init__(self, root: Path, cipher: BlobCipher) -> None:
        self._root = root
        self._cipher = cipher

    def _path(self, name: str) -> Path:
        return self._root / f"{validate_name('watchlist name', name)}{self.SUFFIX}"

    def names(self) -> list[str]:
        if not self._root.is_dir():
            return []
        return sorted(p.name[: -len(self.SUFFIX)] for p in self._root.glob(f"*{self.SUFFIX}"))

    def load(self, name: str) -> Watchlist:
        path = self._path(name)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise WatchlistNotFound(f"no watchlist named {name!r}") from None
        return _decode(json.loads(self._cipher.open(blob, f"watchlist:{name}")))

    def save(self, watchlist: Watchlist) -> None:
        path = self._path(watchlist.name)
        self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
        blob = self._cipher.seal(
            json.dumps(_encode(watchlist)).encode(), f"watchlist:{watchlist.name}"
        )
        fd, tmp = tempfile.mkstemp(dir=self._root, prefix=".tmp-", suffix=self.SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, name: str) -> bool:
        path = self._path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _encode(watchlist: Watchlist) -> dict[str, Any]:
    return {
        "format": 1,
        "name": watchlist.name,
        "model_id": watchlist.model_id,
        "dim": watchlist.dim,
        "created_at": watchlist.created_at.isoformat(),
        "subjects": [
            {
                "subject_id": s.subject_id,
                "templates": [
                    {
                        "embedding": base64.b64encode(t.embedding.astype("<f4").tobytes()).decode(),
                        "source_name": t.source_name,
                        "source_sha256": t.source_sha256,
                        "quality": asdict(t.quality),
                        "enrolled_at": t.enrolled_at.isoformat(),
                    }
                    for t in s.templates
                ],
            }
            for s in watchlist.subjects
        ],
    }


def _decode(data: dict[str, Any]) -> Watchlist:
    return Watchlist(
        name=data["name"],
        model_id=data["model_id"],
        dim=int(data["dim"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        subjects=tuple(
            Subject(
                subject_id=s["subject_id"],
                templates=tuple(
                    Template(
                        embedding=np.frombuffer(
                            base64.b64decode(t["embedding"]), dtype="<f4"
                        ).astype(np.float32),
                        source_name=t["source_name"],
                        source_sha256=t["source_sha256"],
                        quality=FaceQuality(**t["quality"]),
                        enrolled_at=datetime.fromisoformat(t["enrolled_at"]),
                    )
                    for t in s["templates"]
                ),
            )
            for s in data["subjects"]
        ),
    )
