"""Write the U-Net of :mod:`.unet` as an ONNX graph, by hand, with the ``onnx`` package.

No converter is involved: each layer of :func:`.unet.forward` maps to one or two
standard operators (``Conv``, ``Relu``, ``MaxPool``, ``Resize`` nearest, ``Concat``,
``Sigmoid``; on the pretrained encoder also strided and grouped ``Conv`` with TensorFlow's
"SAME" padding, ``Clip`` for ReLU6 and ``Add``) at opset 13, which every ONNX Runtime since 1.8 runs. The graph takes
``(1, bands, rows, cols)`` float32 (NCHW, rows and cols multiples of the card's
``size_multiple``) and returns the probabilities ``(1, outputs, rows, cols)``: the building
and, for two-output networks, its interior (the card's ``outputs`` names them).
A test checks that ONNX Runtime's output equals the JAX forward pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .unet import is_pretrained, layer_names, n_outputs, pretrained_layer_names

OPSET = 13


def build_model(params: dict, widths, n_bands: int, *, doc: str = ""):
    """The ``onnx.ModelProto`` of the network with ``params`` (sigmoid output)."""
    from onnx import helper, numpy_helper

    nodes = []
    inits = []

    def conv(name, src, k, stride=1, groups=1):
        w = np.ascontiguousarray(np.transpose(np.asarray(params[f"{name}/w"], np.float32), (3, 2, 0, 1)))
        b = np.asarray(params[f"{name}/b"], np.float32)
        inits.append(numpy_helper.from_array(w, f"{name}.w"))
        inits.append(numpy_helper.from_array(b, f"{name}.b"))
        # TensorFlow's and JAX's "SAME" on sizes divisible by the stride: the odd pixel of
        # padding goes after (only a strided convolution has one)
        total = max(k - stride, 0)
        pads = [total // 2, total // 2, total - total // 2, total - total // 2]
        nodes.append(helper.make_node("Conv", [src, f"{name}.w", f"{name}.b"], [f"{name}.y"],
                                      kernel_shape=[k, k], pads=pads, strides=[stride, stride],
                                      group=groups, name=name))
        return f"{name}.y"

    def relu(src):
        nodes.append(helper.make_node("Relu", [src], [src + ".relu"]))
        return src + ".relu"

    def relu6(src):
        nodes.append(helper.make_node("Clip", [src, "clip.lo", "clip.hi"], [src + ".relu6"]))
        return src + ".relu6"

    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "up.scales"))
    if is_pretrained(params):
        return _finish(_pretrained_graph(params, widths, conv, relu, relu6, nodes, inits),
                       params, n_bands, nodes, inits, doc, pretrained_layer_names(widths, n_outputs(params)))
    levels = len(widths)
    h = "image"
    skips = []
    for i in range(levels):
        h = relu(conv(f"enc{i}a", h, 3))
        h = relu(conv(f"enc{i}b", h, 3))
        if i < levels - 1:
            skips.append(h)
            nodes.append(helper.make_node("MaxPool", [h], [f"pool{i}"], kernel_shape=[2, 2], strides=[2, 2]))
            h = f"pool{i}"
    for i in range(levels - 2, -1, -1):
        nodes.append(helper.make_node("Resize", [h, "", "up.scales"], [f"up{i}"], mode="nearest",
                                      coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
        nodes.append(helper.make_node("Concat", [f"up{i}", skips[i]], [f"cat{i}"], axis=1))
        h = relu(conv(f"dec{i}a", f"cat{i}", 3))
        h = relu(conv(f"dec{i}b", h, 3))
    logit = conv("head", h, 1)
    return _finish(logit, params, n_bands, nodes, inits, doc, layer_names(widths, n_outputs(params)))


def _pretrained_graph(params, widths, conv, relu, relu6, nodes, inits) -> str:
    """The nodes of a network on the pretrained encoder; returns the logits' name."""
    from onnx import helper, numpy_helper

    from .pretrained import SKIP_BLOCKS, blocks

    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "clip.lo"))
    inits.append(numpy_helper.from_array(np.array(6.0, np.float32), "clip.hi"))
    full = relu(conv("enc0b", relu(conv("enc0a", "image", 3)), 3))
    h = relu6(conv("eff.stem", "image", 3, stride=2))
    feats = []
    for i, k, s, e, cin, cout in blocks()[:SKIP_BLOCKS[-1] + 1]:
        inp = h
        if e != 1:
            h = relu6(conv(f"eff.b{i}.expand", h, 1))
        h = relu6(conv(f"eff.b{i}.dw", h, k, stride=s, groups=cin * e))
        h = conv(f"eff.b{i}.project", h, 1)
        if s == 1 and cin == cout:
            nodes.append(helper.make_node("Add", [h, inp], [f"eff.b{i}.sum"]))
            h = f"eff.b{i}.sum"
        if i in SKIP_BLOCKS:
            feats.append(h)
    skips = [full, *feats[:3]]
    h = feats[3]
    for i in range(3, -1, -1):
        nodes.append(helper.make_node("Resize", [h, "", "up.scales"], [f"up{i}"], mode="nearest",
                                      coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
        nodes.append(helper.make_node("Concat", [f"up{i}", skips[i]], [f"cat{i}"], axis=1))
        h = relu(conv(f"dec{i}a", f"cat{i}", 3))
        h = relu(conv(f"dec{i}b", h, 3))
    return conv("head", h, 1)


def _finish(logit, params, n_bands, nodes, inits, doc, names):
    """Sigmoid on the logits, the graph's inputs and outputs, the checked model."""
    import onnx
    from onnx import TensorProto, helper

    nodes.append(helper.make_node("Sigmoid", [logit], ["probability"]))
    n_out = n_outputs(params)
    assert all(f"{n}/w" in params for n, *_ in names)
    graph = helper.make_graph(
        nodes, "mujun_unet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, n_bands, "rows", "cols"])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, n_out, "rows", "cols"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="mujun", doc_string=doc)
    model.ir_version = min(model.ir_version, 8)  # readable by older ONNX Runtimes too
    onnx.checker.check_model(model)
    return model


def write_model(path: str | Path, params: dict, widths, n_bands: int, *, doc: str = "") -> Path:
    """Serialize the network to ``path`` (``.onnx``)."""
    import onnx

    model = build_model(params, widths, n_bands, doc=doc)
    p = Path(path)
    onnx.save(model, str(p))
    return p


def read_params(path: str | Path) -> dict[str, np.ndarray]:
    """The weights of a network written by :func:`write_model` (to fine-tune it)."""
    import onnx
    from onnx import numpy_helper

    out: dict[str, np.ndarray] = {}
    for init in onnx.load(str(path)).graph.initializer:
        name, _, kind = init.name.rpartition(".")
        if kind not in ("w", "b") or not name:
            continue
        arr = numpy_helper.to_array(init).astype(np.float32)
        out[f"{name}/{kind}"] = np.ascontiguousarray(np.transpose(arr, (2, 3, 1, 0))) if kind == "w" else arr
    return out
