"""Face recognisers: align a detected face, then map crops to L2-normalised embeddings."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from openlfr.config import RuntimeConfig
from openlfr.types import Detection, FloatArray, ImageArray
from openlfr.vision.align import align_face
from openlfr.vision.runners import recogniser_runner
from openlfr.vision.weights import ModelFileError


def l2_normalise(vectors: np.ndarray) -> FloatArray:
    """Rows scaled to unit length (a zero row stays zero rather than becoming NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class FaceRecogniser(abc.ABC):
    """Aligns faces and embeds aligned crops; cosine of two embeddings is the score."""

    model_id: str
    dim: int

    @abc.abstractmethod
    def crop(self, image: ImageArray, detection: Detection) -> ImageArray:
        """The face cut from ``image`` and aligned the way this model expects."""

    @abc.abstractmethod
    def embed(self, crops: Sequence[ImageArray]) -> FloatArray:
        """``(N, dim)`` float32 unit vectors for ``N`` aligned crops (``N`` may be 0)."""


class OnnxRecogniser(FaceRecogniser):
    """Any ONNX recogniser fed a five-point-aligned square crop (SFace, ArcFace, …)."""

    def __init__(
        self,
        model_path: Path,
        runtime: RuntimeConfig,
        *,
        model_id: str,
        input_size: int = 112,
        mean: float = 0.0,
        std: float = 1.0,
        rgb: bool = True,
        max_batch: int | None = None,
        flip_average: bool = False,
    ) -> None:
        self._runner = recogniser_runner(model_path, runtime, input_size)
        # Mirror averaging changes every score a little: a distinct embedding space by name,
        # so templates and calibrations made one way are never mixed with the other.
        self.flip_average = flip_average
        self.model_id = f"{model_id}+flip" if flip_average else model_id
        self.input_size = input_size
        self._mean, self._std, self._rgb = np.float32(mean), np.float32(std), rgb
        self._max_batch = max_batch or runtime.max_batch
        probe = np.zeros((1, input_size, input_size, 3), np.uint8)
        try:
            out = self._run(probe)
        except Exception as exc:  # the engines' own error types
            raise ModelFileError(
                f"model file {model_path} is not a recogniser that takes a {input_size}×"
                f"{input_size} face crop: {exc}"
            ) from exc
        if out.ndim != 2 or out.shape[0] != 1:
            raise ModelFileError(
                f"model file {model_path} is not a recogniser: it gives an output of shape "
                f"{tuple(out.shape)}, not one embedding per face"
            )
        self.dim = int(out.shape[1])

    def crop(self, image: ImageArray, detection: Detection) -> ImageArray:
        return align_face(image, detection.landmarks, self.input_size)

    def embed(self, crops: Sequence[ImageArray]) -> FloatArray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = np.stack(crops)
        if self.flip_average:
            # Each face next to its mirror image, in one batch: (2N, H, W, 3).
            batch = np.ascontiguousarray(np.stack([batch, batch[:, :, ::-1]], axis=1)).reshape(
                -1, *batch.shape[1:]
            )
        out = [
            self._run(batch[i : i + self._max_batch]) for i in range(0, len(batch), self._max_batch)
        ]
        vectors = l2_normalise(np.concatenate(out))
        if self.flip_average:
            vectors = l2_normalise(vectors.reshape(len(crops), 2, -1).sum(axis=1))
        return vectors

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if batch.shape[1:3] != (self.input_size, self.input_size):
            batch = np.stack([cv2.resize(c, (self.input_size, self.input_size)) for c in batch])
        tensor = batch[..., ::-1] if self._rgb else batch
        tensor = (tensor.astype(np.float32) - self._mean) / self._std
        tensor = np.ascontiguousarray(tensor.transpose(0, 3, 1, 2))
        return self._runner.run(tensor).reshape(len(batch), -1)


class DlibRecogniser(FaceRecogniser):
    """dlib's public-domain ResNet (128-d), aligned by dlib's own 5-point predictor."""

    CHIP_SIZE = 150

    def __init__(self, resnet_path: Path, shape_path: Path) -> None:
        import dlib  # optional extra: imported only when this pack is chosen

        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(shape_path))
        self._net = dlib.face_recognition_model_v1(str(resnet_path))
        self.model_id = "dlib-resnet-v1"
        self.dim = 128

    def crop(self, image: ImageArray, detection: Detection) -> ImageArray:
        dlib = self._dlib
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        x1, y1, x2, y2 = (round(float(v)) for v in detection.box)
        shape = self._shape(rgb, dlib.rectangle(x1, y1, x2, y2))
        chip = dlib.get_face_chip(rgb, shape, size=self.CHIP_SIZE, padding=0.25)
        return np.ascontiguousarray(np.asarray(chip)[:, :, ::-1], dtype=np.uint8)

    def embed(self, crops: Sequence[ImageArray]) -> FloatArray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        chips = [np.ascontiguousarray(c[:, :, ::-1]) for c in crops]
        descriptors = self._net.compute_face_descriptor(chips)
        return l2_normalise(np.array([np.asarray(d) for d in descriptors]))
