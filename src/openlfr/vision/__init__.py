"""Face models: detection, alignment, quality, embedding, and where weights come from."""

from openlfr.vision.detector import FaceDetector, YuNetDetector
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.vision.recogniser import DlibRecogniser, FaceRecogniser, OnnxRecogniser
from openlfr.vision.weights import ModelFileError

__all__ = [
    "DlibRecogniser",
    "FaceDetector",
    "FaceRecogniser",
    "ModelFileError",
    "ModelPack",
    "OnnxRecogniser",
    "YuNetDetector",
    "load_pack",
]
