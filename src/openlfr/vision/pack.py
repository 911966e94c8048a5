"""Model packs: a detector and a recogniser chosen by configuration, ready to use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openlfr.config import (
    DetectorConfig,
    DlibPackConfig,
    ModelPackConfig,
    OnnxPathsPackConfig,
    RuntimeConfig,
    SFacePackConfig,
)
from openlfr.types import Detections, Face, FaceCrop, ImageArray
from openlfr.vision.context import detect_with_context
from openlfr.vision.detector import FaceDetector, YuNetDetector
from openlfr.vision.quality import assess
from openlfr.vision.recogniser import DlibRecogniser, FaceRecogniser, OnnxRecogniser
from openlfr.vision.weights import (
    DLIB_RESNET,
    DLIB_SHAPE_5,
    SFACE_2021DEC,
    YUNET_2023MAR,
    resolve_known,
    sha256_of,
    verified_path,
)


@dataclass(frozen=True, slots=True)
class ModelPack:
    """A loaded detector + recogniser pair and the helpers that chain them."""

    detector: FaceDetector
    recogniser: FaceRecogniser
    name: str

    @property
    def model_id(self) -> str:
        """Identifies the embedding space: templates from other packs are not comparable."""
        return self.recogniser.model_id

    def detect(self, image: ImageArray) -> Detections:
        return self.detector.detect(image)

    def crops(self, image: ImageArray, detections: Detections) -> list[FaceCrop]:
        """Aligned crops with quality measures for every detection."""
        out = []
        for det in detections:
            aligned = self.recogniser.crop(image, det)
            out.append(FaceCrop(image=aligned, detection=det, quality=assess(det, aligned)))
        return out

    def embed(self, crops: Sequence[FaceCrop]) -> list[Face]:
        vectors = self.recogniser.embed([c.image for c in crops])
        return [Face(crop=c, embedding=v) for c, v in zip(crops, vectors, strict=True)]

    def analyse(self, image: ImageArray) -> list[Face]:
        """Detect, align and embed every face in a still photo (one batched model call).

        A photo cropped tight to the face is detected again inside a border
        (:func:`detect_with_context`), so its landmarks, pose and template are those
        of the face with its surroundings.
        """
        return self.embed(self.crops(image, detect_with_context(self.detector, image)))


def load_pack(
    config: ModelPackConfig, detector: DetectorConfig, runtime: RuntimeConfig
) -> ModelPack:
    """Build the configured pack, verifying every weight file's checksum where known."""
    if isinstance(config, SFacePackConfig):
        return ModelPack(
            detector=YuNetDetector(resolve_known(YUNET_2023MAR), detector, runtime),
            recogniser=OnnxRecogniser(
                resolve_known(SFACE_2021DEC),
                runtime,
                model_id="sface-2021dec",
                mean=0.0,
                std=1.0,
                rgb=True,
                flip_average=config.flip_average,
            ),
            name="sface",
        )
    if isinstance(config, DlibPackConfig):
        return ModelPack(
            detector=YuNetDetector(resolve_known(YUNET_2023MAR), detector, runtime),
            recogniser=DlibRecogniser(resolve_known(DLIB_RESNET), resolve_known(DLIB_SHAPE_5)),
            name="dlib",
        )
    if isinstance(config, OnnxPathsPackConfig):
        hint = "Check the path in the models section of the configuration."
        det_path = verified_path(config.detector_path, config.detector_sha256, hint)
        rec_path = verified_path(config.recogniser_path, config.recogniser_sha256, hint)
        recogniser = OnnxRecogniser(
            rec_path,
            runtime,
            model_id=f"onnx-{sha256_of(rec_path)[:16]}",
            input_size=config.input_size,
            mean=config.mean,
            std=config.std,
            rgb=config.rgb,
        )
        return ModelPack(
            detector=YuNetDetector(det_path, detector, runtime),
            recogniser=recogniser,
            name="onnx-paths",
        )
    raise TypeError(f"unknown model pack {config!r}")
