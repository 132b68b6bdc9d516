"""A compact U-Net for building segmentation, as pure JAX functions over a parameter dict.

The network is deliberately small (four levels of 16/32/64/128 channels by default,
about 490,000 weights; the fourth level sees about 20 m around a pixel at 0.25 m, which
decides whether two roofs are one building) so that it trains on two CPU cores in
minutes on a few megapixels and runs at survey scale:

* encoder: per level two 3x3 convolutions with ReLU, then 2x2 max pooling; while
  training, each 3x3 convolution may be followed by a batch normalisation
  (:func:`forward_batch_norm`), folded into the weights afterwards
  (:func:`fold_batch_norm`), so the network written is plain convolutions;
* decoder: nearest-neighbour upsampling by 2, concatenation with the encoder's
  output of the same level, two 3x3 convolutions with ReLU;
* head: a 1x1 convolution to one logit per pixel and output; the exported model adds
  the sigmoid. Models of ``footprints train`` have two outputs (:data:`OUTPUTS`): the
  building and its *interior* (the roof shrunk away from its outline and from every
  neighbour), whose separate blobs seed the watershed that splits touching roofs
  (:mod:`remote_sensing.objects`). One output (the building alone) is still supported.

For RGB 8-bit imagery the encoder may instead be EfficientNet-Lite0 pretrained on
ImageNet (:mod:`.pretrained`; ``init_params(..., encoder=...)``): its features at strides
2, 4, 8 and 16 feed a decoder of the same kind (:func:`pretrained_layer_names`), and the
parameters' ``eff.`` names tell :func:`forward` which network it runs.

Inputs are ``(batch, rows, cols, bands)`` (NHWC, XLA's fast layout on CPU), already
normalised; rows and cols must be multiples of :func:`size_multiple`. Weights are
kept as float32 numpy arrays in a plain dict (``HWIO`` for convolutions), which is
what :mod:`.onnx_export` writes and what the model card describes.
"""

from __future__ import annotations

import numpy as np

#: Default channel widths per level (coarsest last).
DEFAULT_WIDTHS = (16, 32, 64, 128)

#: The outputs of the models ``footprints train`` writes, in channel order (the card's ``outputs``).
OUTPUTS = ("building", "interior")

#: Decoder widths of the network on the pretrained encoder (:mod:`.pretrained`): full
#: resolution, strides 2, 4 and 8, and the encoder's stride-16 features (112 channels).
PRETRAINED_WIDTHS = (16, 32, 48, 64, 112)

#: Epsilon of the batch normalisation (training only; folded into the weights afterwards).
BN_EPS = 1e-5


def size_multiple(widths) -> int:
    """Rows and columns of an input must be multiples of this (one halving per level).

    >>> size_multiple((16, 32, 64))
    4
    """
    return 2 ** (len(widths) - 1)


def layer_names(widths, n_out: int = 1) -> list[tuple[str, int, int, int]]:
    """``(name, kernel, in_channels, out_channels)`` of every convolution, in order.

    The input channel count of the first layer is a placeholder (-1): it is the
    number of image bands.
    """
    out = []
    cin = -1
    for i, w in enumerate(widths):
        out.append((f"enc{i}a", 3, cin, w))
        out.append((f"enc{i}b", 3, w, w))
        cin = w
    for i in range(len(widths) - 2, -1, -1):
        out.append((f"dec{i}a", 3, widths[i + 1] + widths[i], widths[i]))
        out.append((f"dec{i}b", 3, widths[i], widths[i]))
    out.append(("head", 1, widths[0], n_out))
    return out


def pretrained_layer_names(widths, n_out: int = 1) -> list[tuple[str, int, int, int]]:
    """The convolutions learnt from scratch on top of the pretrained encoder, in order.

    A full-resolution pair (``enc0a``/``enc0b``, the outlines' detail the encoder's first
    stride loses), a decoder pair per stride 8, 4, 2 and 1 joining the encoder's features
    of that stride (:data:`.pretrained.SKIP_CHANNELS`), and the head.
    """
    from .pretrained import SKIP_CHANNELS

    skips = (widths[0], *SKIP_CHANNELS[:3])  # features at strides 1, 2, 4, 8
    out = [("enc0a", 3, -1, widths[0]), ("enc0b", 3, widths[0], widths[0])]
    below = SKIP_CHANNELS[3]
    for i in range(3, -1, -1):
        out.append((f"dec{i}a", 3, below + skips[i], widths[i]))
        out.append((f"dec{i}b", 3, widths[i], widths[i]))
        below = widths[i]
    out.append(("head", 1, widths[0], n_out))
    return out


def is_pretrained(params: dict) -> bool:
    """Whether ``params`` are a network on the pretrained encoder (:mod:`.pretrained`)."""
    return "eff.stem/w" in params


def init_params(n_bands: int, widths=DEFAULT_WIDTHS, seed: int = 0, n_out: int = 1,
                encoder: str | None = None) -> dict[str, np.ndarray]:
    """He-initialised weights (``NAME/w`` as HWIO, ``NAME/b``) for ``n_bands`` inputs, ``n_out`` outputs.

    With ``encoder`` (``"efficientnet-lite0"``) the encoder's weights are the pretrained
    ones (:func:`.pretrained.load_encoder`) and ``widths`` are the decoder's
    (:data:`PRETRAINED_WIDTHS`).

    Examples
    --------
    >>> p = init_params(1, (8, 16))
    >>> p["enc0a/w"].shape, p["head/w"].shape
    ((3, 3, 1, 8), (1, 1, 8, 1))
    """
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    names = layer_names(widths, n_out)
    if encoder is not None:
        from .pretrained import ENCODER, load_encoder

        if encoder != ENCODER:
            raise ValueError(f"unknown encoder {encoder!r}; the one available is {ENCODER}")
        params.update(load_encoder())
        names = pretrained_layer_names(widths, n_out)
    for name, k, cin, cout in names:
        cin = n_bands if cin < 0 else cin
        std = np.sqrt(2.0 / (k * k * cin))
        if name == "head":
            std = np.sqrt(1.0 / cin)
        params[f"{name}/w"] = (rng.standard_normal((k, k, cin, cout)) * std).astype(np.float32)
        params[f"{name}/b"] = np.zeros(cout, np.float32)
    return params


def n_weights(params: dict) -> int:
    """Number of trainable values."""
    return int(sum(np.asarray(v).size for v in params.values()))


def forward(params: dict, x, widths=DEFAULT_WIDTHS):
    """Logits of a normalised NHWC batch (JAX, differentiable).

    ``(batch, rows, cols)`` for a one-output network, ``(batch, rows, cols, outputs)`` otherwise.
    ``params`` are plain convolutions: a network trained with batch normalisation is first
    folded (:func:`fold_batch_norm`).
    """
    out, _ = _run(params, x, widths, train_norm=False)
    return out


def forward_batch_norm(params: dict, x, widths=DEFAULT_WIDTHS):
    """Logits and the batch statistics of every normalised layer (training with batch norm).

    Each convolution with ``NAME/gamma`` in ``params`` is followed by a batch
    normalisation over the batch's pixels (before the ReLU); the statistics
    (``NAME/mean``, ``NAME/var``) come back for the running averages that
    :func:`fold_batch_norm` later folds into the weights.
    """
    return _run(params, x, widths, train_norm=True)


def _conv(params: dict, name: str, h, train_norm: bool, stats: dict):
    """A "SAME" convolution with bias, then the batch normalisation when ``params`` have one."""
    import jax
    import jax.numpy as jnp

    h = jax.lax.conv_general_dilated(h, params[f"{name}/w"], (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC")) + params[f"{name}/b"]
    if f"{name}/gamma" in params:
        if not train_norm:
            raise ValueError("fold the batch normalisation into the weights first (fold_batch_norm)")
        mean = jnp.mean(h, axis=(0, 1, 2))
        var = jnp.mean(jnp.square(h - mean), axis=(0, 1, 2))
        stats[f"{name}/mean"], stats[f"{name}/var"] = mean, var
        h = (h - mean) * jax.lax.rsqrt(var + BN_EPS) * params[f"{name}/gamma"] + params[f"{name}/beta"]
    return h


def _up(h):
    import jax.numpy as jnp

    return jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)


def _run(params: dict, x, widths, train_norm: bool):
    import jax
    import jax.numpy as jnp

    if is_pretrained(params):
        return _run_pretrained(params, x, train_norm)
    stats: dict = {}

    def conv(name, h):
        return _conv(params, name, h, train_norm, stats)

    def pool(h):
        n, r, c, ch = h.shape
        return h.reshape(n, r // 2, 2, c // 2, 2, ch).max(axis=(2, 4))

    skips = []
    h = x
    levels = len(widths)
    for i in range(levels):
        h = jax.nn.relu(conv(f"enc{i}a", h))
        h = jax.nn.relu(conv(f"enc{i}b", h))
        if i < levels - 1:
            skips.append(h)
            h = pool(h)
    for i in range(levels - 2, -1, -1):
        h = jnp.concatenate([_up(h), skips[i]], axis=-1)
        h = jax.nn.relu(conv(f"dec{i}a", h))
        h = jax.nn.relu(conv(f"dec{i}b", h))
    out = conv("head", h)
    return (out[..., 0] if out.shape[-1] == 1 else out), stats


def _run_pretrained(params: dict, x, train_norm: bool):
    """:func:`_run` for a network on the pretrained encoder (:func:`pretrained_layer_names`)."""
    import jax
    import jax.numpy as jnp

    from .pretrained import encode

    stats: dict = {}

    def conv(name, h):
        return _conv(params, name, h, train_norm, stats)

    full = jax.nn.relu(conv("enc0b", jax.nn.relu(conv("enc0a", x))))
    feats, _ = encode(params, x)
    skips = [full, *feats[:3]]
    h = feats[3]
    for i in range(3, -1, -1):
        h = jnp.concatenate([_up(h), skips[i]], axis=-1)
        h = jax.nn.relu(conv(f"dec{i}a", h))
        h = jax.nn.relu(conv(f"dec{i}b", h))
    out = conv("head", h)
    return (out[..., 0] if out.shape[-1] == 1 else out), stats


def add_batch_norm(params: dict) -> dict:
    """``params`` with a batch normalisation (gamma 1, beta 0) after every 3x3 convolution.

    Examples
    --------
    >>> p = add_batch_norm(init_params(1, (8, 16)))
    >>> p["enc0a/gamma"].shape, "head/gamma" in p
    ((8,), False)
    """
    out = dict(params)
    for name, k, _cin, cout in layer_names_of(params):
        if k == 3 and not name.startswith("eff."):  # the pretrained encoder's are folded in
            out[f"{name}/gamma"] = np.ones(cout, np.float32)
            out[f"{name}/beta"] = np.zeros(cout, np.float32)
    return out


def initial_statistics(params: dict) -> dict:
    """Running statistics (mean 0, variance 1) of every normalised layer of ``params``."""
    out = {}
    for key, g in params.items():
        if key.endswith("/gamma"):
            name = key[: -len("/gamma")]
            out[f"{name}/mean"] = np.zeros_like(np.asarray(g))
            out[f"{name}/var"] = np.ones_like(np.asarray(g))
    return out


def fold_batch_norm(params: dict, stats: dict) -> dict:
    """Plain convolution weights computing what the normalised network computes at inference.

    ``w' = w * g``, ``b' = (b - mean) * g + beta`` with ``g = gamma / sqrt(var + eps)`` per
    output channel: the exported ONNX graph and :func:`forward` need no normalisation layer.

    Examples
    --------
    >>> import jax, numpy as np
    >>> p = add_batch_norm(init_params(2, (4, 8), seed=1))
    >>> x = np.random.default_rng(0).standard_normal((2, 8, 8, 2)).astype(np.float32)
    >>> out, st = forward_batch_norm(p, x, (4, 8))
    >>> bool(np.allclose(forward(fold_batch_norm(p, st), x, (4, 8)), out, atol=1e-4))
    True
    """
    out = {}
    for key, v in params.items():
        name, _, kind = key.rpartition("/")
        if kind in ("gamma", "beta"):
            continue
        if f"{name}/gamma" not in params:
            out[key] = np.asarray(v, np.float32)
            continue
        g = np.asarray(params[f"{name}/gamma"], np.float32) / np.sqrt(np.asarray(stats[f"{name}/var"],
                                                                                  np.float32) + BN_EPS)
        if kind == "w":
            out[key] = (np.asarray(v, np.float32) * g).astype(np.float32)
        else:
            out[key] = ((np.asarray(v, np.float32) - np.asarray(stats[f"{name}/mean"], np.float32)) * g
                        + np.asarray(params[f"{name}/beta"], np.float32)).astype(np.float32)
    return out


def layer_names_of(params: dict) -> list[tuple[str, int, int, int]]:
    """``(name, kernel, in_channels, out_channels)`` of every convolution in ``params``."""
    return [(key[: -len("/w")], int(np.shape(v)[0]), int(np.shape(v)[2]), int(np.shape(v)[3]))
            for key, v in params.items() if key.endswith("/w")]


def n_outputs(params: dict) -> int:
    """Number of output channels of the network with ``params``."""
    return int(np.shape(params["head/w"])[-1])
