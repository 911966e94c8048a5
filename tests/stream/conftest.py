"""Fixtures for the live pipeline: synthetic clips, real clips, watchlist galleries."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from openlfr.types import ImageArray
from openlfr.vision import ModelPack
from openlfr.watchlist import Gallery
from openlfr.watchlist.images import load_reference_image


def write_clip(path: Path, frames: int, fps: int = 25, size: tuple[int, int] = (320, 240)) -> Path:
    """An H.264 clip of numbered frames (no faces): source tests without real data."""
    width, height = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), (i * 7) % 255, np.uint8)
            cv2.putText(
                image, str(i), (20, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3
            )
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="session")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 frames, 2 s at 25 fps."""
    return write_clip(tmp_path_factory.mktemp("clips") / "numbers.mp4", 50)


@pytest.fixture(scope="session")
def long_synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 s at 25 fps: longer than any streaming test needs."""
    return write_clip(tmp_path_factory.mktemp("clips") / "long_numbers.mp4", 30 * 25)


@pytest.fixture(scope="session")
def clips(shared_data: Path) -> Path:
    root = shared_data / "videos"
    if not (root / "short_hamilton_clip.mp4").is_file():
        pytest.skip(f"real clips not found in {root}")
    return root


def main_face_embedding(
    pack: ModelPack, image: ImageArray, centre: bool = False
) -> np.ndarray | None:
    """The embedding of the largest face, or of the face nearest the centre."""
    faces = pack.analyse(image)
    if not faces:
        return None
    if centre:
        h, w = image.shape[:2]

        def off_centre(f: object) -> float:
            b = f.crop.detection.box  # type: ignore[attr-defined]
            return float(np.hypot((b[0] + b[2]) / 2 - w / 2, (b[1] + b[3]) / 2 - h / 2))

        return min(faces, key=off_centre).embedding
    return max(faces, key=lambda f: f.crop.quality.inter_eye_px).embedding


# The stills videos/labels.csv names for each clip's people (Obama: every still).
STILL_SUBJECTS = {
    "lin_manuel_miranda": ["lin_manuel_miranda_01.png"],
    "alex_lacamoire": ["alex_lacamoire_0*"],
    "barack_obama": ["obama_*"],
    "joe_biden": ["biden_0*"],
}


@pytest.fixture(scope="session")
def stills_gallery(shared_data: Path, pack: ModelPack) -> Gallery:
    """Miranda, Lacamoire, Obama and Biden from face_recognition_examples (one row per still)."""
    root = shared_data / "small/face_recognition_examples/images"
    ids, vectors = [], []
    for subject, patterns in STILL_SUBJECTS.items():
        for path in sorted(p for pattern in patterns for p in root.glob(pattern)):
            data = path.read_bytes()
            image = load_reference_image(data, max_bytes=10**8, max_pixels=10**8)
            vector = main_face_embedding(pack, image)
            if vector is not None:  # a partial face may not be found: not a template
                ids.append(subject)
                vectors.append(vector)
    return Gallery(ids, np.stack(vectors), pack.model_id)


@pytest.fixture(scope="session")
def lfw_gallery(
    shared_data: Path, pack: ModelPack, tmp_path_factory: pytest.TempPathFactory
) -> Gallery:
    """The lfw-dev identities with at least two images, first image each (~800 subjects).

    Embeddings are cached in the session's temporary folder (they are
    biometric data: never in the repository or the user's home).
    """
    cache = tmp_path_factory.getbasetemp() / "lfw_gallery.npz"
    if cache.is_file():
        data = np.load(cache)
        return Gallery(list(data["ids"]), data["vectors"], pack.model_id)
    import csv

    first: dict[str, str] = {}
    with (shared_data / "lfw-dev/labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if int(row["n_images_identity"]) >= 2:
                first.setdefault(row["identity"], row["file"])
    ids, vectors = [], []
    for identity, rel in sorted(first.items()):
        image = cv2.imread(str(shared_data / "lfw-dev" / rel), cv2.IMREAD_COLOR)
        vector = None if image is None else main_face_embedding(pack, image, centre=True)
        if vector is not None:
            ids.append(identity)
            vectors.append(vector)
    matrix = np.stack(vectors).astype(np.float32)
    np.savez(cache, ids=np.asarray(ids), vectors=matrix)
    return Gallery(ids, matrix, pack.model_id)
