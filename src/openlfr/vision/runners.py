"""Engines that run an ONNX model on a ready NCHW tensor: onnxruntime or OpenCV DNN."""

from __future__ import annotations

import abc
import threading
from pathlib import Path

import cv2
import numpy as np

from openlfr.config import RuntimeConfig
from openlfr.vision.onnx_runtime import load_session
from openlfr.vision.providers import ShapeProfile, on_gpu
from openlfr.vision.weights import ModelFileError


class TensorRunner(abc.ABC):
    """Runs one single-input, single-output model on a float32 batch."""

    name: str

    @abc.abstractmethod
    def run(self, tensor: np.ndarray) -> np.ndarray:
        """``(N, C, H, W)`` float32 in, ``(N, …)`` float32 out."""


class OrtRunner(TensorRunner):
    """onnxruntime, with the batch dim made symbolic so any batch size runs."""

    name = "onnxruntime"

    def __init__(self, path: Path, runtime: RuntimeConfig, input_size: int = 112) -> None:
        def profile(name: str) -> ShapeProfile:
            side = input_size
            opt = min(8, runtime.max_batch)
            return ShapeProfile(
                name, (1, 3, side, side), (opt, 3, side, side), (runtime.max_batch, 3, side, side)
            )

        self._session = load_session(path, runtime, symbolic_dims={0: "N"}, profile=profile)
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def run(self, tensor: np.ndarray) -> np.ndarray:
        return np.asarray(self._session.run([self._output], {self._input: tensor})[0], np.float32)


class OpenCVRunner(TensorRunner):
    """OpenCV's DNN module (CPU); calls are serialised because a Net keeps per-call state."""

    name = "opencv"

    def __init__(self, path: Path, runtime: RuntimeConfig) -> None:
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as exc:
            raise ModelFileError(f"OpenCV cannot load {path}: {exc}") from exc
        self._lock = threading.Lock()
        if runtime.threads:
            cv2.setNumThreads(runtime.threads)

    def run(self, tensor: np.ndarray) -> np.ndarray:
        with self._lock:
            self._net.setInput(tensor)
            return np.asarray(self._net.forward(), np.float32)


def recogniser_runner(path: Path, runtime: RuntimeConfig, input_size: int = 112) -> TensorRunner:
    """The configured engine for a recogniser; 'auto' picks the faster one for the device."""
    backend = runtime.recogniser_backend
    if backend == "auto":
        backend = "onnxruntime" if on_gpu(runtime) else "opencv"
    if backend == "opencv":
        try:
            return OpenCVRunner(path, runtime)
        except ModelFileError:
            if runtime.recogniser_backend == "opencv":
                raise
            # 'auto' only: some exports use operators OpenCV lacks.
    return OrtRunner(path, runtime, input_size)
