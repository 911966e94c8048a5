"""Face detection: the YuNet model on onnxruntime with its decoding and NMS in NumPy."""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from openlfr.config import DetectorConfig, RuntimeConfig
from openlfr.types import Detections, FloatArray, ImageArray
from openlfr.vision.onnx_runtime import load_session
from openlfr.vision.providers import ShapeProfile
from openlfr.vision.regions import Windows, cut, merge, to_image, windows_around

_STRIDES = (8, 16, 32)


class FaceDetector(abc.ABC):
    """Finds faces (box, five landmarks, score) in a BGR image."""

    @abc.abstractmethod
    def detect(self, image: ImageArray) -> Detections:
        """All faces in ``image`` (``(H, W, 3)`` BGR ``uint8``), in its pixel coordinates."""

    def detect_windows(self, image: ImageArray, windows: Windows) -> Detections:
        """Faces centred in the given windows of ``image``, in its pixel coordinates.

        The default looks at the whole image (detectors that cannot do better).
        """
        return self.detect(image)

    def detect_around(
        self, image: ImageArray, boxes: FloatArray, *, scale: float = 2.0, size: int = 128
    ) -> Detections:
        """Faces near the expected ``(N, 4)`` boxes (a tracker's predictions)."""
        if len(boxes) == 0:
            return Detections.empty()
        return self.detect_windows(
            image, windows_around(boxes, scale=scale, size=size, min_side=size / 4)
        )


class YuNetDetector(FaceDetector):
    """OpenCV Zoo YuNet (2023mar) run by onnxruntime.

    onnxruntime measured faster than ``cv2.FaceDetectorYN`` on the same file
    (``bench/detector.py`` compares both in one run), so the model's outputs are
    decoded here exactly as OpenCV's ``FaceDetectorYN`` does it.
    """

    def __init__(self, model_path: Path, config: DetectorConfig, runtime: RuntimeConfig) -> None:
        self._config = config

        # Batch, height and width symbolic: windows around tracked faces run as one batch.
        def profile(name: str) -> ShapeProfile:
            # From a batch of windows (128 px) to a whole landscape frame at the input width
            # (1920 px when native); TensorRT sizes its buffers for the largest.
            side = -(-(config.input_width or 1920) // 32) * 32
            top = runtime.max_batch
            return ShapeProfile(name, (1, 3, 32, 32), (8, 3, 128, 128), (top, 3, side, side))

        self._session = load_session(
            model_path, runtime, symbolic_dims={0: "N", 2: "H", 3: "W"}, profile=profile
        )
        self._input_name = self._session.get_inputs()[0].name
        self._output_names = [o.name for o in self._session.get_outputs()]
        self._anchor_cache: dict[tuple[int, int], list[FloatArray]] = {}
        # Set to a shared batcher so several cameras' windows run as one call.
        self.patch_runner: Callable[[list[ImageArray]], list[Detections]] | None = None

    @property
    def config(self) -> DetectorConfig:
        return self._config

    def detect(self, image: ImageArray) -> Detections:
        height, width = image.shape[:2]
        if height == 0 or width == 0:
            return Detections.empty()
        target_w = self._config.input_width or width
        if target_w > width and not self._config.allow_upscale:
            target_w = width
        scale = target_w / width
        target_h = max(1, round(height * scale))
        resized = (
            image
            if scale == 1.0
            else cv2.resize(
                image,
                (target_w, target_h),
                interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
            )
        )
        pad_h = -(-target_h // 32) * 32
        pad_w = -(-target_w // 32) * 32
        blob = np.zeros((1, 3, pad_h, pad_w), np.float32)
        blob[0, :, :target_h, :target_w] = resized.transpose(2, 0, 1)
        found = self._run(blob)[0]
        if len(found) == 0:
            return found
        inv = np.float32(1.0 / scale)
        boxes, landmarks, scores = found.boxes, found.landmarks, found.scores
        return Detections(
            boxes=np.ascontiguousarray(boxes * inv, dtype=np.float32),
            landmarks=np.ascontiguousarray(landmarks * inv, dtype=np.float32),
            scores=np.ascontiguousarray(scores, dtype=np.float32),
        )

    def detect_windows(self, image: ImageArray, windows: Windows) -> Detections:
        if len(windows) == 0 or image.size == 0:
            return Detections.empty()
        patches = cut(image, windows)
        return self.detect_patches(patches, windows)

    def detect_patches(self, patches: np.ndarray, windows: Windows) -> Detections:
        """Faces in ``(N, S, S, 3)`` patches cut for ``windows``, in image pixels."""
        size = windows.size
        if size % 32:
            raise ValueError(f"window patches must be a multiple of 32 pixels, got {size}")
        run = self.patch_runner or self.run_patches
        found = run(list(patches))
        parts = [to_image(f, windows, i) for i, f in enumerate(found)]
        return merge(parts, self._config.nms_threshold, self._config.top_k)

    def run_patches(self, patches: list[ImageArray]) -> list[Detections]:
        """Each same-sized patch's faces, in patch pixels: one batched model call."""
        blob = np.ascontiguousarray(np.stack(patches).transpose(0, 3, 1, 2), dtype=np.float32)
        return self._run(blob)

    def _run(self, blob: np.ndarray) -> list[Detections]:
        """Each image of an ``(N, 3, H, W)`` float32 blob's faces, in blob pixels."""
        count, _, pad_h, pad_w = blob.shape
        raw = self._session.run(self._output_names, {self._input_name: blob})
        # The model flattens the batch into its anchor axis, image by image.
        outputs = {
            name: value.reshape(count, -1, value.shape[-1])
            for name, value in zip(self._output_names, raw, strict=True)
        }
        found = []
        for index in range(count):
            boxes, landmarks, scores = self._decode(outputs, pad_h, pad_w, index)
            if scores.size == 0:
                found.append(Detections.empty())
                continue
            keep = self._nms(boxes, scores)
            found.append(
                Detections(
                    boxes=np.ascontiguousarray(boxes[keep]),
                    landmarks=np.ascontiguousarray(landmarks[keep]),
                    scores=np.ascontiguousarray(scores[keep]),
                )
            )
        return found

    def _anchors(self, pad_h: int, pad_w: int) -> list[FloatArray]:
        key = (pad_h, pad_w)
        grids = self._anchor_cache.get(key)
        if grids is None:
            grids = []
            for stride in _STRIDES:
                rows, cols = pad_h // stride, pad_w // stride
                yy, xx = np.mgrid[0:rows, 0:cols]
                grids.append(np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32))
            # A camera uses two sizes (its frame and its windows): keep a few. Replacing
            # the dict (not mutating it) keeps concurrent readers safe.
            kept = dict(self._anchor_cache) if len(self._anchor_cache) < 4 else {}
            kept[key] = grids
            self._anchor_cache = kept
        return grids

    def _decode(
        self, outputs: dict[str, np.ndarray], pad_h: int, pad_w: int, index: int = 0
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        threshold = self._config.score_threshold
        all_boxes, all_kps, all_scores = [], [], []
        for stride, grid in zip(_STRIDES, self._anchors(pad_h, pad_w), strict=True):
            cls = np.clip(outputs[f"cls_{stride}"][index, :, 0], 0.0, 1.0)
            obj = np.clip(outputs[f"obj_{stride}"][index, :, 0], 0.0, 1.0)
            score = np.sqrt(cls * obj)
            sel = np.nonzero(score >= threshold)[0]
            if sel.size == 0:
                continue
            bbox = outputs[f"bbox_{stride}"][index, sel]
            kps = outputs[f"kps_{stride}"][index, sel].reshape(-1, 5, 2)
            cell = grid[sel]
            centre = (cell + bbox[:, 0:2]) * stride
            size = np.exp(bbox[:, 2:4]) * stride
            all_boxes.append(np.concatenate([centre - size / 2, centre + size / 2], axis=1))
            all_kps.append((kps + cell[:, None, :]) * stride)
            all_scores.append(score[sel])
        if not all_scores:
            empty = np.zeros((0,), np.float32)
            return np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), empty
        return (
            np.concatenate(all_boxes).astype(np.float32),
            np.concatenate(all_kps).astype(np.float32),
            np.concatenate(all_scores).astype(np.float32),
        )

    def _nms(self, boxes: FloatArray, scores: FloatArray) -> np.ndarray:
        # cv2.dnn.NMSBoxes is what FaceDetectorYN uses; it takes x, y, w, h.
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        keep = cv2.dnn.NMSBoxes(
            xywh.tolist(),
            scores.tolist(),
            self._config.score_threshold,
            self._config.nms_threshold,
            top_k=self._config.top_k,
        )
        return np.asarray(keep, dtype=np.intp).reshape(-1)
