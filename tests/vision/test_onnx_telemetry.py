"""onnxruntime's telemetry is switched off before any session of ours exists (finding 13)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from onnx_builders import build_tiny_recogniser
from openlfr.config import RuntimeConfig
from openlfr.vision import onnx_runtime

SRC = Path(onnx_runtime.__file__).resolve().parents[1]


def test_telemetry_is_disabled_before_every_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_session = ort.InferenceSession

    def session(*args: Any, **kwargs: Any) -> Any:
        calls.append("session")
        return real_session(*args, **kwargs)

    monkeypatch.setattr(ort, "disable_telemetry_events", lambda: calls.append("disable"))
    monkeypatch.setattr(ort, "InferenceSession", session)
    model = build_tiny_recogniser(tmp_path / "tiny.onnx", dim=8, size=16)
    for _ in range(2):
        onnx_runtime.load_session(model, RuntimeConfig(), symbolic_dims={0: "N"})
    assert calls[:2] == ["disable", "session"]
    assert calls.count("session") == 2
    assert all(calls[i - 1] == "disable" for i, c in enumerate(calls) if c == "session")


def test_no_session_is_built_anywhere_else() -> None:
    """Every onnxruntime session goes through ``load_session`` (which disables telemetry)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            named = isinstance(node, ast.Attribute) and node.attr == "InferenceSession"
            if named and path.name != "onnx_runtime.py":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
