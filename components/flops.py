"""Count a traced TensorFlow graph's multiply-add FLOPs from its ops and static shapes.

The Trainer profile (components/train_profile.py) reports the fraction of the CPU's
matmul peak a Trainer reaches, which needs the work per example counted rather than
guessed from parameter counts. The work of a transformer is in its contractions:
`MatMul`, `BatchMatMul*`, `Einsum` (Keras' attention and dense layers on 3-D inputs)
and convolutions with their gradients. Each is counted as 2 FLOPs per multiply-add
from the shapes in the traced graph; elementwise ops (activations, normalization,
softmax, the optimizer) are left out, as hardware peaks count only the contractions.
Ops inside nested functions (a `while` loop's body) are counted once per trace, not
per iteration (legacy function definitions, such as CTC loss internals, are skipped), so an RNN's figure is a lower bound.
"""
from __future__ import annotations

import math
import re

import tensorflow as tf

CONV_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "Conv3D",
            "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter")  # fmt: skip


def _dims(tensor) -> list[int] | None:
    shape = tensor.shape
    if shape.rank is None or any(d is None for d in shape.as_list()):
        return None
    return shape.as_list()


def _matmul(op) -> int:
    a, b = (_dims(t) for t in op.inputs[:2])
    out = _dims(op.outputs[0])
    if a is None or b is None or out is None:
        return 0
    transpose_a = op.get_attr("transpose_a") if "transpose_a" in op.node_def.attr else op.get_attr("adj_x")
    inner = a[-2] if transpose_a else a[-1]
    return 2 * math.prod(out) * inner


def _einsum(op) -> int:
    """2 x the product of every index's size: each output element sums over the others."""
    equation = op.get_attr("equation").decode()
    inputs, _ = equation.split("->")
    sizes: dict[str, int] = {}
    for spec, tensor in zip(inputs.split(","), op.inputs, strict=True):
        dims = _dims(tensor)
        if dims is None or "." in spec:
            return 0
        for letter, size in zip(re.sub(r"\s", "", spec), dims, strict=True):
            sizes[letter] = size
    return 2 * math.prod(sizes.values())


def _conv(op) -> int:
    """Forward: 2 x output elements x (kernel window x input channels); each gradient the same."""
    kind = op.type
    if kind == "Conv2DBackpropInput" or kind == "DepthwiseConv2dNativeBackpropInput":
        kernel, activations = _dims(op.inputs[1]), _dims(op.inputs[2])  # (kh, kw, cin, cout), dy
    elif kind.endswith("BackpropFilter"):
        kernel, activations = _dims(op.outputs[0]), _dims(op.inputs[2])  # dW has the kernel's shape; dy
    else:
        kernel, activations = _dims(op.inputs[1]), _dims(op.outputs[0])
    if kernel is None or activations is None:
        return 0
    window = math.prod(kernel[:-2])
    if kind.startswith("Depthwise"):  # (kh, kw, cin, multiplier): no sum over input channels
        return 2 * math.prod(activations) * window
    return 2 * math.prod(activations) * window * kernel[-2]


def op_flops(op) -> int:
    if op.type in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        return _matmul(op)
    if op.type == "Einsum":
        return _einsum(op)
    if op.type in CONV_OPS:
        return _conv(op)
    return 0


def graph_flops(graph: tf.Graph) -> int:
    """Contraction FLOPs of every op in `graph` and in the function graphs it calls."""
    total, seen = 0, set()

    def visit(g):
        nonlocal total
        for op in g.get_operations():
            total += op_flops(op)
            for attr in ("f", "body", "then_branch", "else_branch"):  # nested function graphs
                if attr in op.node_def.attr:
                    name = op.node_def.attr[attr].func.name
                    function = getattr(g, "_functions", {}).get(name) if name else None
                    inner = getattr(function, "graph", None)  # a legacy _DefinedFunction has none: skipped
                    if inner is not None and name not in seen:
                        seen.add(name)
                        visit(inner)

    visit(graph)
    return total
