"""onnxruntime execution providers: which, in what order, with what options.

Pure functions of the settings and of the providers the installed onnxruntime
offers (``onnxruntime.get_available_providers()``), so the choice is tested on
machines without a GPU by passing a made-up list.

- ``cpu``: the CPU provider only.
- ``cuda``: CUDA, then CPU for any node CUDA lacks; an error if onnxruntime has
  no CUDA provider (the CPU-only wheel is installed).
- ``tensorrt``: TensorRT (engines built once per model and input range, cached
  on disk, FP16 if set), then CUDA, then CPU; an error without TensorRT.
- ``auto``: TensorRT where installed and ``tensorrt_in_auto`` is on, else CUDA
  where installed, else CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openlfr.config import RuntimeConfig

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"

Provider = str | tuple[str, dict[str, str]]
"""A provider name, or a name with its options, as ``InferenceSession(providers=…)`` takes it."""


class ProviderUnavailable(RuntimeError):
    """The configured device needs a provider the installed onnxruntime does not have."""


@dataclass(frozen=True, slots=True)
class ShapeProfile:
    """The input shapes a model will see, for TensorRT's dynamic-shape profile.

    Attributes:
        input_name: the model's input.
        min_shape, opt_shape, max_shape: ``(N, C, H, W)`` smallest, most common
            (what TensorRT tunes for) and largest shapes.
    """

    input_name: str
    min_shape: tuple[int, int, int, int]
    opt_shape: tuple[int, int, int, int]
    max_shape: tuple[int, int, int, int]

    @staticmethod
    def _text(name: str, shape: tuple[int, ...]) -> str:
        return f"{name}:{'x'.join(str(d) for d in shape)}"

    def options(self) -> dict[str, str]:
        return {
            "trt_profile_min_shapes": self._text(self.input_name, self.min_shape),
            "trt_profile_opt_shapes": self._text(self.input_name, self.opt_shape),
            "trt_profile_max_shapes": self._text(self.input_name, self.max_shape),
        }


def device_kind(runtime: RuntimeConfig, available: list[str]) -> str:
    """'tensorrt', 'cuda' or 'cpu': what ``runtime.device`` comes to with these providers."""
    have = set(available)
    if runtime.device == "cpu":
        return "cpu"
    if runtime.device == "tensorrt":
        if TENSORRT not in have:
            raise ProviderUnavailable(
                "device 'tensorrt' requested but onnxruntime has no TensorRT provider "
                "(install onnxruntime-gpu and TensorRT: see docs/pipeline.md)"
            )
        return "tensorrt"
    if runtime.device == "cuda":
        if CUDA not in have:
            raise ProviderUnavailable(
                "device 'cuda' requested but onnxruntime has no CUDA provider "
                "(install onnxruntime-gpu in place of onnxruntime: see docs/pipeline.md)"
            )
        return "cuda"
    if runtime.tensorrt_in_auto and TENSORRT in have:
        return "tensorrt"
    return "cuda" if CUDA in have else "cpu"


def cuda_options(runtime: RuntimeConfig) -> dict[str, str]:
    options = {
        "device_id": str(runtime.gpu_id),
        # EXHAUSTIVE re-tunes for every new input shape: windows and frames vary.
        "cudnn_conv_algo_search": runtime.cudnn_conv_algo_search,
        "arena_extend_strategy": "kSameAsRequested",
    }
    if runtime.gpu_mem_limit_mb:
        options["gpu_mem_limit"] = str(runtime.gpu_mem_limit_mb * 1024 * 1024)
    return options


def tensorrt_options(runtime: RuntimeConfig, profile: ShapeProfile | None) -> dict[str, str]:
    cache = Path(runtime.tensorrt_cache_dir).expanduser()
    options = {
        "device_id": str(runtime.gpu_id),
        "trt_fp16_enable": "True" if runtime.tensorrt_fp16 else "False",
        "trt_engine_cache_enable": "True",
        "trt_engine_cache_path": str(cache),
        # Building an engine takes minutes; the timing cache makes rebuilds quicker.
        "trt_timing_cache_enable": "True",
        "trt_timing_cache_path": str(cache),
        "trt_max_workspace_size": str(runtime.tensorrt_workspace_mb * 1024 * 1024),
    }
    if profile is not None:
        options.update(profile.options())
    return options


def providers_for(
    runtime: RuntimeConfig,
    available: list[str] | None = None,
    profile: ShapeProfile | None = None,
) -> list[Provider]:
    """Providers in preference order, with options, for ``runtime.device``.

    ``available`` defaults to what the installed onnxruntime offers; ``profile``
    gives TensorRT the range of input shapes the model will see.
    """
    if available is None:
        import onnxruntime as ort

        available = list(ort.get_available_providers())
    kind = device_kind(runtime, available)
    if kind == "cpu":
        return [CPU]
    chain: list[Provider] = [(CUDA, cuda_options(runtime)), CPU]
    if kind == "tensorrt":
        chain.insert(0, (TENSORRT, tensorrt_options(runtime, profile)))
    return chain


def names(providers: list[Provider]) -> list[str]:
    return [p if isinstance(p, str) else p[0] for p in providers]


def on_gpu(runtime: RuntimeConfig, available: list[str] | None = None) -> bool:
    """Whether the models will run on a GPU provider."""
    return CUDA in names(providers_for(runtime, available))
