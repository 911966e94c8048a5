"""Configuration of the face model packs and how they run (strict, documented)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SFacePackConfig(_Strict):
    """The default pack: OpenCV Zoo YuNet detector + SFace recogniser (128-d)."""

    type: Literal["sface"] = "sface"
    flip_average: bool = Field(
        default=True,
        description=(
            "Embed each aligned face and its mirror image and use the normalised mean. On "
            "celeba-dev (in the wild) it found 64.6% of listed people at 0.55 against 62.9% "
            "without, and on lfw-dev 87.4% against 85.8% with the same false alerts "
            "(bench/wild_accuracy.py); the recogniser runs twice per face. Templates and "
            "calibrations carry it in their model id ('sface-2021dec+flip')."
        ),
    )


class DlibPackConfig(_Strict):
    """YuNet detector + dlib's public-domain ResNet recogniser (128-d)."""

    type: Literal["dlib"] = "dlib"


class OnnxPathsPackConfig(_Strict):
    """Models a force is licensed for, loaded from explicit files.

    The detector must be YuNet-format (same outputs); the recogniser any ONNX
    that maps an aligned face crop to one embedding (e.g. InsightFace ArcFace:
    112×112 input, 512-d output, ``mean=127.5``, ``std=127.5``).
    """

    type: Literal["onnx-paths"] = "onnx-paths"
    detector_path: Path = Field(description="YuNet-format face detector ONNX file.")
    recogniser_path: Path = Field(description="Face recogniser ONNX file.")
    detector_sha256: str | None = Field(
        default=None, description="Expected SHA-256 of the detector file; checked at load."
    )
    recogniser_sha256: str | None = Field(
        default=None, description="Expected SHA-256 of the recogniser file; checked at load."
    )
    input_size: int = Field(
        default=112, ge=32, le=512, description="Side of the square aligned crop the model takes."
    )
    mean: float = Field(default=127.5, description="Subtracted from every pixel value.")
    std: float = Field(default=127.5, gt=0, description="Pixel values are divided by this.")
    rgb: bool = Field(default=True, description="Feed RGB (True) or BGR (False) channels.")


ModelPackConfig = Annotated[
    SFacePackConfig | DlibPackConfig | OnnxPathsPackConfig, Field(discriminator="type")
]


class RuntimeConfig(_Strict):
    """Where and how the models run."""

    device: Literal["auto", "cpu", "cuda", "tensorrt"] = Field(
        default="auto",
        description=(
            "'auto' uses onnxruntime's CUDA provider when the installed onnxruntime has one "
            "(the onnxruntime-gpu wheel: docs/pipeline.md), else the CPU. 'cuda' and "
            "'tensorrt' refuse to start without their provider; 'tensorrt' falls back to "
            "CUDA, then the CPU, for any node TensorRT cannot run."
        ),
    )
    gpu_id: int = Field(default=0, ge=0, le=63, description="CUDA device the models run on.")
    tensorrt_in_auto: bool = Field(
        default=False,
        description=(
            "Let 'auto' pick TensorRT when installed. Off by default: the first start builds "
            "an engine per model and input range, which takes minutes (then cached)."
        ),
    )
    tensorrt_fp16: bool = Field(
        default=True,
        description=(
            "TensorRT runs in half precision: about twice the speed; embeddings move by "
            "about 1e-3 in cosine, well under any threshold's resolution."
        ),
    )
    tensorrt_cache_dir: Path = Field(
        default=Path("~/.cache/openlfr/tensorrt"),
        description="Where TensorRT engines and timing caches are kept between runs.",
    )
    tensorrt_workspace_mb: int = Field(
        default=2048, ge=64, le=65536, description="TensorRT's scratch memory per engine."
    )
    max_batch: int = Field(
        default=32,
        ge=1,
        le=1024,
        description=(
            "Largest batch a model is called with (face crops to embed, windows to search); "
            "also the top of TensorRT's dynamic batch profile."
        ),
    )
    cudnn_conv_algo_search: Literal["HEURISTIC", "EXHAUSTIVE", "DEFAULT"] = Field(
        default="HEURISTIC",
        description=(
            "How CUDA picks convolution kernels. EXHAUSTIVE benchmarks each new input shape "
            "(frames and windows vary), which stalls the first frames of every size."
        ),
    )
    gpu_mem_limit_mb: int = Field(
        default=0, ge=0, description="Cap on the CUDA memory arena per session; 0 = no cap."
    )
    threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Threads per model session; 0 lets the runtime use every core.",
    )
    recogniser_backend: Literal["auto", "onnxruntime", "opencv"] = Field(
        default="auto",
        description=(
            "Engine that runs the recogniser. 'auto': onnxruntime on a GPU, else OpenCV's DNN "
            "module, which ran SFace about 1.8× faster than onnxruntime on this project's "
            "2-core CPU (bench/recognition.py); falls back to onnxruntime for a model "
            "OpenCV cannot load."
        ),
    )


class DetectorConfig(_Strict):
    """Face detection settings.

    Raising ``input_width`` finds smaller, more distant faces at a cost in time
    that grows with the pixel count; 0 means "the frame's own width".
    """

    input_width: int = Field(
        default=640,
        ge=0,
        le=7680,
        description=(
            "Width a wider frame is shrunk to before detection (height keeps the aspect ratio). "
            "0 = native resolution. Narrower frames are used as they are unless "
            "allow_upscale is set."
        ),
    )
    allow_upscale: bool = Field(
        default=False,
        description=(
            "Enlarge frames narrower than input_width. Helps only for faces below the "
            "detector's smallest size (about 10 px between box edges at its input scale)."
        ),
    )
    score_threshold: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description=(
            "Minimum detector confidence. Lower finds more small or blurred faces and more "
            "false detections; 0.6 found every face of a 720p street test clip."
        ),
    )
    nms_threshold: float = Field(
        default=0.3, gt=0.0, le=1.0, description="IoU above which overlapping boxes are merged."
    )
    top_k: int = Field(default=5000, ge=1, description="Candidates kept before NMS.")
