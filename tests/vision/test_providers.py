"""Execution provider choice from the settings and a made-up list of installed providers."""

from __future__ import annotations

import pytest

from openlfr.config import RuntimeConfig
from openlfr.vision.providers import (
    CPU,
    CUDA,
    TENSORRT,
    ProviderUnavailable,
    ShapeProfile,
    names,
    on_gpu,
    providers_for,
)

CPU_ONLY = ["AzureExecutionProvider", CPU]
GPU = [CUDA, CPU]
GPU_TRT = [TENSORRT, CUDA, CPU]


@pytest.mark.parametrize(
    ("device", "available", "expected"),
    [
        ("auto", CPU_ONLY, [CPU]),
        ("auto", GPU, [CUDA, CPU]),
        ("auto", GPU_TRT, [CUDA, CPU]),  # TensorRT only when asked: engines take minutes
        ("cpu", GPU_TRT, [CPU]),
        ("cuda", GPU_TRT, [CUDA, CPU]),
        ("tensorrt", GPU_TRT, [TENSORRT, CUDA, CPU]),
    ],
)
def test_device_and_installed_providers_choose_the_chain(
    device: str, available: list[str], expected: list[str]
) -> None:
    runtime = RuntimeConfig(device=device)  # type: ignore[arg-type]
    assert names(providers_for(runtime, available)) == expected


def test_auto_takes_tensorrt_when_allowed_and_installed() -> None:
    runtime = RuntimeConfig(tensorrt_in_auto=True)
    assert names(providers_for(runtime, GPU_TRT)) == [TENSORRT, CUDA, CPU]
    assert names(providers_for(runtime, GPU)) == [CUDA, CPU]
    assert names(providers_for(runtime, CPU_ONLY)) == [CPU]


@pytest.mark.parametrize(("device", "available"), [("cuda", CPU_ONLY), ("tensorrt", GPU)])
def test_a_missing_provider_is_refused_with_the_install_step(
    device: str, available: list[str]
) -> None:
    with pytest.raises(ProviderUnavailable, match=r"docs/pipeline\.md"):
        providers_for(RuntimeConfig(device=device), available)  # type: ignore[arg-type]


def test_tensorrt_options_cache_fp16_and_the_dynamic_batch_profile(tmp_path: object) -> None:
    runtime = RuntimeConfig(
        device="tensorrt", tensorrt_cache_dir=f"{tmp_path}/trt", tensorrt_fp16=False, gpu_id=1
    )
    profile = ShapeProfile("data", (1, 3, 112, 112), (8, 3, 112, 112), (32, 3, 112, 112))
    chain = providers_for(runtime, GPU_TRT, profile)
    trt, cuda = chain[0], chain[1]
    assert isinstance(trt, tuple) and isinstance(cuda, tuple)
    options = trt[1]
    assert options["trt_engine_cache_enable"] == "True"
    assert options["trt_engine_cache_path"] == f"{tmp_path}/trt"
    assert options["trt_fp16_enable"] == "False"
    assert options["device_id"] == "1" and cuda[1]["device_id"] == "1"
    assert options["trt_profile_min_shapes"] == "data:1x3x112x112"
    assert options["trt_profile_max_shapes"] == "data:32x3x112x112"
    assert cuda[1]["cudnn_conv_algo_search"] == "HEURISTIC"


def test_cuda_memory_cap_is_passed_in_bytes() -> None:
    chain = providers_for(RuntimeConfig(device="cuda", gpu_mem_limit_mb=512), GPU)
    assert isinstance(chain[0], tuple)
    assert chain[0][1]["gpu_mem_limit"] == str(512 * 1024 * 1024)
    assert "gpu_mem_limit" not in providers_for(RuntimeConfig(device="cuda"), GPU)[0][1]


def test_on_gpu_and_this_machine() -> None:
    assert on_gpu(RuntimeConfig(), GPU) and not on_gpu(RuntimeConfig(), CPU_ONLY)
    assert not on_gpu(RuntimeConfig(device="cpu"), GPU_TRT)
    # Whatever this machine has installed, 'auto' gives a chain that ends on the CPU.
    assert names(providers_for(RuntimeConfig()))[-1] == CPU
