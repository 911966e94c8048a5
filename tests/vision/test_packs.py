"""Model packs: shipped weights verified, explicit paths, clear errors for bad files."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from onnx_builders import build_tiny_detector, build_tiny_recogniser
from openlfr.config import DetectorConfig, OnnxPathsPackConfig, RuntimeConfig, Settings
from openlfr.vision import ModelFileError, OnnxRecogniser, load_pack
from openlfr.vision.weights import (
    SFACE_2021DEC,
    YUNET_2023MAR,
    KnownWeight,
    resolve_known,
    sha256_of,
)


def test_shipped_weights_are_found_and_match_their_checksums() -> None:
    for weight in (YUNET_2023MAR, SFACE_2021DEC):
        path = resolve_known(weight)
        assert sha256_of(path) == weight.sha256


def test_missing_package_names_the_file_and_how_to_install_it() -> None:
    weight = KnownWeight("openlfr_no_such_package", "models/x.onnx", "0" * 64, "pip install x", "-")
    with pytest.raises(ModelFileError, match=r"models/x\.onnx.*pip install x"):
        weight.locate()


def test_corrupt_weight_file_is_refused_by_checksum(tmp_path: Path) -> None:
    bad = tmp_path / "yunet.onnx"
    shutil.copy(YUNET_2023MAR.locate(), bad)
    data = bytearray(bad.read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    config = OnnxPathsPackConfig(
        detector_path=bad,
        detector_sha256=YUNET_2023MAR.sha256,
        recogniser_path=SFACE_2021DEC.locate(),
    )
    with pytest.raises(ModelFileError, match=r"yunet\.onnx is corrupt"):
        load_pack(config, DetectorConfig(), RuntimeConfig())


def test_missing_and_unreadable_model_files_are_clear_errors(tmp_path: Path) -> None:
    config = OnnxPathsPackConfig(
        detector_path=tmp_path / "absent.onnx", recogniser_path=SFACE_2021DEC.locate()
    )
    with pytest.raises(ModelFileError, match=r"absent\.onnx does not exist"):
        load_pack(config, DetectorConfig(), RuntimeConfig())
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a model")
    config = OnnxPathsPackConfig(detector_path=junk, recogniser_path=SFACE_2021DEC.locate())
    with pytest.raises(ModelFileError, match=r"junk\.onnx is not a readable ONNX model"):
        load_pack(config, DetectorConfig(), RuntimeConfig())


def test_pack_from_explicit_paths_runs_end_to_end(tmp_path: Path) -> None:
    detector = build_tiny_detector(tmp_path / "det.onnx")
    recogniser = build_tiny_recogniser(tmp_path / "arcface-like.onnx", dim=512)
    config = OnnxPathsPackConfig(
        detector_path=detector,
        recogniser_path=recogniser,
        recogniser_sha256=sha256_of(recogniser),
    )
    pack = load_pack(config, DetectorConfig(input_width=0), RuntimeConfig())
    image = np.zeros((480, 640, 3), np.uint8)
    image[64:96, 128:160] = 255
    image[320:352, 320:352] = (40, 200, 250)
    faces = pack.analyse(image)
    assert len(faces) == 2
    assert pack.recogniser.dim == 512
    norms = [float(np.linalg.norm(f.embedding)) for f in faces]
    assert norms == pytest.approx([1.0, 1.0], abs=1e-5)
    # A batch bigger than the file's fixed batch of 1 works, and is deterministic.
    batch = pack.recogniser.embed([faces[0].crop.image] * 5)
    np.testing.assert_allclose(batch, np.repeat(faces[0].embedding[None], 5, axis=0), atol=1e-5)
    assert pack.model_id.startswith("onnx-")


def test_pack_paths_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recogniser = build_tiny_recogniser(tmp_path / "r.onnx", dim=64)
    monkeypatch.setenv("OPENLFR_MODELS__TYPE", "onnx-paths")
    monkeypatch.setenv("OPENLFR_MODELS__DETECTOR_PATH", str(YUNET_2023MAR.locate()))
    monkeypatch.setenv("OPENLFR_MODELS__RECOGNISER_PATH", str(recogniser))
    settings = Settings()
    assert isinstance(settings.models, OnnxPathsPackConfig)
    pack = load_pack(settings.models, settings.detector, settings.runtime)
    assert pack.recogniser.dim == 64


def test_both_recogniser_engines_give_the_same_embeddings() -> None:
    rng = np.random.default_rng(3)
    crops = [(rng.random((112, 112, 3)) * 255).astype(np.uint8) for _ in range(3)]
    out = {}
    for backend in ("onnxruntime", "opencv"):
        recogniser = OnnxRecogniser(
            SFACE_2021DEC.locate(), RuntimeConfig(recogniser_backend=backend), model_id="sface"
        )
        out[backend] = recogniser.embed(crops)
    np.testing.assert_allclose(out["onnxruntime"], out["opencv"], atol=1e-4)


def test_one_recogniser_embeds_correctly_from_several_threads() -> None:
    rng = np.random.default_rng(4)
    crops = [(rng.random((112, 112, 3)) * 255).astype(np.uint8) for _ in range(4)]
    recogniser = OnnxRecogniser(
        SFACE_2021DEC.locate(), RuntimeConfig(recogniser_backend="opencv"), model_id="sface"
    )
    expected = recogniser.embed(crops)
    results: list[np.ndarray] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            out = recogniser.embed(crops)
            with lock:
                results.append(out)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 15
    for out in results:
        np.testing.assert_allclose(out, expected, atol=1e-5)
