"""Content-addressed, encrypted cache of the faces found in evaluation images.

An entry is addressed by the SHA-256 of the image bytes under a folder named by
everything else that changes the result: the recogniser's model id, the pack,
every detector setting (input width, upscaling, score and NMS thresholds, …)
and the image preprocessing (padding). The same photo under another
name, in another dataset, is found again; a change of model or detector
settings is a different folder, never a stale hit.

Embeddings are biometric data, so every entry is sealed with the data key
(AES-GCM, :class:`~openlfr.privacy.crypto.BlobCipher`), bound to its address as
associated data: an entry copied to another address or read with another key
is a miss, recomputed and overwritten, never trusted. Deleting the folder
(``$OPENLFR_HOME/cache/embeddings``) is always safe.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.config import DetectorConfig
from openlfr.evaluation.faces import AcquisitionStatus, ImageFaces
from openlfr.privacy.crypto import BlobCipher, DecryptionError

CACHE_FORMAT = 1
_STATUS_CODES = {s: i for i, s in enumerate(AcquisitionStatus)}
_CODE_STATUS = {i: s for s, i in _STATUS_CODES.items()}


@dataclass(frozen=True, slots=True)
class ExtractionSettings:
    """Everything besides the image bytes that decides what the models output.

    ``detector`` is the whole detector configuration as canonical JSON, so a
    setting added to it later changes the key without anyone remembering to.
    """

    model_id: str
    pack: str
    detector: str
    pad: float

    @classmethod
    def from_config(
        cls, model_id: str, pack: str, detector: DetectorConfig, pad: float
    ) -> ExtractionSettings:
        canonical = json.dumps(detector.model_dump(mode="json"), sort_keys=True)
        return cls(model_id=model_id, pack=pack, detector=canonical, pad=float(pad))

    def key(self) -> str:
        """A stable digest of these settings (the cache folder's name)."""
        doc = json.dumps(
            {
                "format": CACHE_FORMAT,
                "model_id": self.model_id,
                "pack": self.pack,
                "detector": json.loads(self.detector),
                "pad": self.pad,
            },
            sort_keys=True,
        )
        return hashlib.sha256(doc.encode()).hexdigest()[:24]


def image_digest(data: bytes) -> str:
    """The content address of an image: SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def _encode(faces: ImageFaces) -> bytes:
    buffer = io.BytesIO()
    np.savez(
        buffer,
        status=np.array(_STATUS_CODES[faces.status], np.int8),
        size=np.array([faces.width, faces.height], np.int64),
        boxes=faces.boxes.astype(np.float32),
        landmarks=faces.landmarks.astype(np.float32),
        scores=faces.scores.astype(np.float32),
        embeddings=faces.embeddings.astype(np.float32),
        detail=np.frombuffer(faces.detail.encode(), np.uint8),
    )
    return buffer.getvalue()


def _decode(data: bytes) -> ImageFaces:
    # allow_pickle=False: a cache file must never be able to run code.
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        width, height = (int(v) for v in z["size"])
        return ImageFaces(
            status=_CODE_STATUS[int(z["status"])],
            width=width,
            height=height,
            boxes=z["boxes"],
            landmarks=z["landmarks"],
            scores=z["scores"],
            embeddings=z["embeddings"],
            detail=z["detail"].tobytes().decode(),
        )


class EmbeddingCache:
    """Sealed per-image entries under ``root/<settings key>/<aa>/<sha256>.olfe``."""

    SUFFIX = ".olfe"

    def __init__(self, root: Path, cipher: BlobCipher, settings: ExtractionSettings) -> None:
        self._settings_key = settings.key()
        self._dir = root / self._settings_key
        self._cipher = cipher
        self.hits = 0
        self.misses = 0

    @property
    def folder(self) -> Path:
        return self._dir

    def _path(self, digest: str) -> Path:
        return self._dir / digest[:2] / f"{digest}{self.SUFFIX}"

    def _purpose(self, digest: str) -> str:
        return f"evaluation-faces:{self._settings_key}:{digest}"

    def get(self, digest: str) -> ImageFaces | None:
        """The stored result for an image, or ``None`` (absent, unreadable or not ours)."""
        try:
            blob = self._path(digest).read_bytes()
            faces = _decode(self._cipher.open(blob, self._purpose(digest)))
        except (OSError, DecryptionError, ValueError, KeyError):
            self.misses += 1
            return None
        self.hits += 1
        return faces

    def put(self, digest: str, faces: ImageFaces) -> None:
        """Store atomically: a crash leaves the old entry or the new one, never half."""
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        sealed = self._cipher.seal(_encode(faces), self._purpose(digest))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=self.SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(sealed)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
