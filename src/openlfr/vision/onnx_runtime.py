"""onnxruntime sessions: symbolic input dims, providers (``providers.py``), thread settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import onnx
import onnxruntime as ort

from openlfr.config import RuntimeConfig
from openlfr.vision.providers import ShapeProfile, providers_for
from openlfr.vision.weights import ModelFileError

__all__ = ["load_session", "providers_for"]


def load_session(
    path: Path,
    runtime: RuntimeConfig,
    *,
    symbolic_dims: dict[int, str] | None = None,
    profile: Callable[[str], ShapeProfile] | None = None,
) -> ort.InferenceSession:
    """Load an ONNX model, making the named input dims of its first input symbolic.

    Model files often fix their input shape (YuNet ``[1,3,640,640]``, SFace
    ``[1,3,112,112]``); onnxruntime then refuses other sizes, so the fixed dims
    (for example batch, height and width) are relabelled before the session is
    built. ``symbolic_dims`` maps a dim index to its new name.
    """
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises several unrelated types for a bad file
        raise ModelFileError(f"model file {path} is not a readable ONNX model: {exc}") from exc
    if not model.graph.input or not model.graph.output:
        # An empty or truncated file parses as an empty model.
        raise ModelFileError(f"model file {path} is not a readable ONNX model: it holds no graph")
    # Old exporters (SFace 2021dec) list every weight as a graph input too,
    # which stops onnxruntime folding constants; drop those inputs.
    initialisers = {init.name for init in model.graph.initializer}
    weight_inputs = [i for i in model.graph.input if i.name in initialisers]
    for weight_input in weight_inputs:
        model.graph.input.remove(weight_input)
    if symbolic_dims:
        dims = model.graph.input[0].type.tensor_type.shape.dim
        for index, name in symbolic_dims.items():
            dims[index].dim_param = name
        # Output shapes recorded in the file would contradict the new inputs.
        for output in model.graph.output:
            for dim in output.type.tensor_type.shape.dim:
                dim.dim_param = dim.dim_param or "d"
    # onnxruntime's telemetry (a device id and the process path, with an upload
    # path in the library) is on by default; a biometric system sends nothing.
    ort.disable_telemetry_events()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if runtime.threads:
        options.intra_op_num_threads = runtime.threads
    options.inter_op_num_threads = 1
    # Spinning threads fight OpenCV's and the decoder's threads on few cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    input_name = model.graph.input[0].name
    providers = providers_for(
        runtime, list(ort.get_available_providers()), profile(input_name) if profile else None
    )
    try:
        return ort.InferenceSession(
            model.SerializeToString(), sess_options=options, providers=providers
        )
    except Exception as exc:  # onnxruntime's own error types for a graph it cannot run
        raise ModelFileError(
            f"model file {path} is not a model onnxruntime can run: {exc}"
        ) from exc
