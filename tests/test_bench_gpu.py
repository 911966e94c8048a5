"""bench/gpu.py on a machine without an NVIDIA GPU: it says so and exits 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has nvidia-smi")
def test_gpu_bench_without_a_gpu_says_so_and_exits_0(tmp_path: Path) -> None:
    # PATH holds only the interpreter's folder: no nvidia-smi can be found.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no NVIDIA GPU" in done.stdout
    assert "fps/cam" not in done.stdout  # it measured nothing


def test_gpu_bench_finds_no_gpu_when_nvidia_smi_lists_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A driver tool that lists nothing (a container without a device) counts as no GPU.
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{Path(sys.executable).parent}")
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import gpu
    finally:
        sys.path.remove(str(REPO / "bench"))
    assert gpu.nvidia_gpus() == []
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-x)'\n")
    assert gpu.nvidia_gpus() == ["GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-x)"]
