"""The encrypted, content-addressed cache: round trips, misses that never trust bad entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.config import DetectorConfig
from openlfr.evaluation.cache import EmbeddingCache, ExtractionSettings, image_digest
from openlfr.evaluation.faces import AcquisitionStatus, FaceRule, ImageFaces
from openlfr.privacy.crypto import BlobCipher


def _settings(**detector: object) -> ExtractionSettings:
    return ExtractionSettings.from_config("model-x", "pack", DetectorConfig(**detector), 0.0)


def _faces() -> ImageFaces:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(2, 8)).astype(np.float32)
    return ImageFaces(
        status=AcquisitionStatus.OK,
        width=100,
        height=80,
        boxes=np.array([[10, 10, 40, 40], [60, 20, 90, 50]], np.float32),
        landmarks=rng.uniform(0, 100, (2, 5, 2)).astype(np.float32),
        scores=np.array([0.9, 0.8], np.float32),
        embeddings=emb / np.linalg.norm(emb, axis=1, keepdims=True),
    )


def test_round_trip_and_encryption_at_rest(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, BlobCipher(b"k" * 32), _settings())
    digest = image_digest(b"some image bytes")
    assert cache.get(digest) is None
    faces = _faces()
    cache.put(digest, faces)
    back = cache.get(digest)
    assert back is not None
    assert back.status is AcquisitionStatus.OK and (back.width, back.height) == (100, 80)
    np.testing.assert_array_equal(back.embeddings, faces.embeddings)
    np.testing.assert_array_equal(back.landmarks, faces.landmarks)
    (entry,) = list(cache.folder.rglob("*.olfe"))
    raw = entry.read_bytes()
    assert faces.embeddings.tobytes()[:16] not in raw  # sealed, not plain arrays
    assert (cache.hits, cache.misses) == (1, 1)


def test_failed_acquisitions_are_cached_with_their_reason(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, BlobCipher(b"k" * 32), _settings())
    cache.put("ab" * 32, ImageFaces.failed(AcquisitionStatus.UNREADABLE, 8, detail="damaged"))
    back = cache.get("ab" * 32)
    assert back is not None and back.status is AcquisitionStatus.UNREADABLE
    assert back.detail == "damaged" and back.embeddings.shape == (0, 8)


def test_tampered_moved_or_foreign_entries_are_misses(tmp_path: Path) -> None:
    key = BlobCipher(b"k" * 32)
    cache = EmbeddingCache(tmp_path, key, _settings())
    a, b = image_digest(b"a"), image_digest(b"b")
    cache.put(a, _faces())
    path_a = next(cache.folder.rglob(f"{a}.olfe"))
    # Moved to another address: the address is authenticated, so it does not open.
    moved = cache.folder / b[:2] / f"{b}.olfe"
    moved.parent.mkdir(parents=True, exist_ok=True)
    moved.write_bytes(path_a.read_bytes())
    assert cache.get(b) is None
    # Another data key cannot read it.
    assert EmbeddingCache(tmp_path, BlobCipher(b"o" * 32), _settings()).get(a) is None
    # Corrupted bytes: a miss, not an exception.
    path_a.write_bytes(path_a.read_bytes()[:-3] + b"xyz")
    assert cache.get(a) is None


def test_every_setting_that_changes_results_changes_the_address() -> None:
    base = _settings().key()
    assert _settings(score_threshold=0.7).key() != base
    assert _settings(input_width=320).key() != base
    other_pad = ExtractionSettings.from_config("model-x", "pack", DetectorConfig(), 0.3)
    other_model = ExtractionSettings.from_config("model-y", "pack", DetectorConfig(), 0.0)
    assert len({base, other_pad.key(), other_model.key()}) == 3
    assert _settings().key() == base  # stable


def test_labelled_face_rules() -> None:
    faces = _faces()
    # Image centre (50, 40): box 0 centre (25, 25) is 29.2 away; box 1 (75, 35) is 25.5 away.
    assert faces.labelled_face(FaceRule.CENTRE) == 1
    eyes = faces.landmarks[:, 1] - faces.landmarks[:, 0]
    assert faces.labelled_face(FaceRule.LARGEST) == int(np.argmax(np.hypot(*eyes.T)))
    empty = ImageFaces.failed(AcquisitionStatus.NO_FACE, 8, 10, 10)
    assert empty.labelled_face(FaceRule.CENTRE) is None
    assert empty.labelled_embedding(FaceRule.LARGEST) is None


@pytest.mark.realdata
def test_extraction_runs_the_models_once(shared_data: Path, pack: object, tmp_path: Path) -> None:
    from openlfr.evaluation.extraction import DecodeLimits, extract_faces
    from openlfr.vision import ModelPack

    assert isinstance(pack, ModelPack)
    images = sorted((shared_data / "lfw-dev" / "images" / "Aaron_Sorkin").glob("*.jpg"))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    paths = [*images, bad, tmp_path / "missing.jpg"]
    settings = ExtractionSettings.from_config(pack.model_id, pack.name, DetectorConfig(), 0.0)
    cache = EmbeddingCache(tmp_path / "cache", BlobCipher(b"k" * 32), settings)
    limits = DecodeLimits(20_000_000, 40_000_000)
    seen: list[tuple[int, int, int]] = []
    first = extract_faces(
        pack, paths, cache=cache, pad=0.0, limits=limits, progress=lambda *a: seen.append(a)
    )
    assert [f.status for f in first[:2]] == [AcquisitionStatus.OK] * 2
    assert first[2].status is AcquisitionStatus.UNREADABLE and first[2].detail
    assert first[3].status is AcquisitionStatus.UNREADABLE and "cannot read" in first[3].detail
    assert seen[-1] == (4, 4, 0)

    class Exploding:
        """A pack whose models must not run: everything has to come from the cache."""

        recogniser = pack.recogniser

        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"model called: {name}")

    second = extract_faces(Exploding(), paths[:3], cache=cache, pad=0.0, limits=limits)  # type: ignore[arg-type]
    for a, b in zip(first[:3], second, strict=True):
        np.testing.assert_array_equal(a.embeddings, b.embeddings)
