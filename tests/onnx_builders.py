"""Tiny ONNX models built in the test run, to exercise loading models from paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_tiny_recogniser(path: Path, dim: int = 512, size: int = 112, seed: int = 0) -> Path:
    """An ArcFace-shaped recogniser: ``[1,3,size,size]`` in, ``[1,dim]`` out.

    Average-pools the crop to 4×4 per channel and projects the 48 values with a
    fixed random matrix: different faces give different vectors, the same crop
    the same vector. The batch dim is fixed at 1, as in many exported files.
    """
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((48, dim)).astype(np.float32)
    k = size // 4
    nodes = [
        helper.make_node(
            "AveragePool", ["input.1"], ["pooled"], kernel_shape=[k, k], strides=[k, k]
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "W"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_recogniser",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, dim])],
        initializer=[numpy_helper.from_array(weight, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def build_tiny_detector(path: Path, size: int = 640) -> Path:
    """A YuNet-format detector that "finds a face" in every bright 32×32 cell.

    Outputs have YuNet's names and shapes (``cls_8 … kps_32``). At stride 32
    each cell's score is high where the cell's mean brightness is high, the box
    is one cell wide, landmarks sit at the cell's corner; strides 8 and 16
    never fire. Enough to drive the real decoding and NMS from a file.
    """
    nodes = []
    outputs = []
    initialisers = [
        numpy_helper.from_array(np.array([1.0 / 3.0], np.float32), "third"),
        numpy_helper.from_array(np.array([1.0 / 8.0], np.float32), "gain"),
        numpy_helper.from_array(np.array([-16.0], np.float32), "offset"),
        numpy_helper.from_array(np.array([-20.0], np.float32), "off"),
        numpy_helper.from_array(np.array([0.0], np.float32), "zero"),
        numpy_helper.from_array(np.array([1, -1, 1], np.int64), "column"),
    ]
    for stride in (8, 16, 32):
        pooled, grey = f"pool{stride}", f"grey{stride}"
        nodes += [
            helper.make_node(
                "AveragePool",
                ["input"],
                [pooled],
                kernel_shape=[stride, stride],
                strides=[stride, stride],
            ),
            helper.make_node("ReduceSum", [pooled], [f"sum{stride}"], axes=[1], keepdims=1),
            helper.make_node("Mul", [f"sum{stride}", "third"], [grey]),
            # [1, 1, h, w] -> [1, h*w, 1]: one row per cell, as YuNet lays them out
            helper.make_node("Reshape", [grey, "column"], [f"col{stride}"]),
        ]
        col = f"col{stride}"
        if stride == 32:
            nodes += [
                helper.make_node("Mul", [col, "gain"], [f"scaled{stride}"]),
                helper.make_node("Add", [f"scaled{stride}", "offset"], [f"logit{stride}"]),
            ]
        else:
            nodes += [
                helper.make_node("Mul", [col, "zero"], [f"flat{stride}"]),
                helper.make_node("Add", [f"flat{stride}", "off"], [f"logit{stride}"]),
            ]
        nodes += [
            helper.make_node("Sigmoid", [f"logit{stride}"], [f"cls_{stride}"]),
            helper.make_node("Identity", [f"cls_{stride}"], [f"obj_{stride}"]),
            helper.make_node("Mul", [col, "zero"], [f"z{stride}"]),
            helper.make_node("Tile", [f"z{stride}", f"rep4_{stride}"], [f"bbox_{stride}"]),
            helper.make_node("Tile", [f"z{stride}", f"rep10_{stride}"], [f"kps_{stride}"]),
        ]
        initialisers += [
            numpy_helper.from_array(np.array([1, 1, 4], np.int64), f"rep4_{stride}"),
            numpy_helper.from_array(np.array([1, 1, 10], np.int64), f"rep10_{stride}"),
        ]
        cells = (size // stride) ** 2
        outputs += [
            helper.make_tensor_value_info(f"cls_{stride}", TensorProto.FLOAT, [1, cells, 1]),
            helper.make_tensor_value_info(f"obj_{stride}", TensorProto.FLOAT, [1, cells, 1]),
            helper.make_tensor_value_info(f"bbox_{stride}", TensorProto.FLOAT, [1, cells, 4]),
            helper.make_tensor_value_info(f"kps_{stride}", TensorProto.FLOAT, [1, cells, 10]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny_detector",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        outputs,
        initializer=initialisers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
