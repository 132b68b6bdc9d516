"""A compact U-Net for building segmentation, as pure JAX functions over a parameter dict.

The network is deliberately small (three levels of 16/32/64 channels by default,
about 120,000 weights) so that it trains on two CPU cores in minutes on a few
megapixels and runs at survey scale:

* encoder: per level two 3x3 convolutions with ReLU, then 2x2 max pooling;
* decoder: nearest-neighbour upsampling by 2, concatenation with the encoder's
  output of the same level, two 3x3 convolutions with ReLU;
* head: a 1x1 convolution to one logit per pixel and output; the exported model adds
  the sigmoid. Models of ``footprints train`` have two outputs (:data:`OUTPUTS`): the
  building and its *interior* (the roof shrunk away from its outline and from every
  neighbour), whose separate blobs seed the watershed that splits touching roofs
  (:mod:`remote_sensing.objects`). One output (the building alone) is still supported.

Inputs are ``(batch, rows, cols, bands)`` (NHWC, XLA's fast layout on CPU), already
normalised; rows and cols must be multiples of :func:`size_multiple`. Weights are
kept as float32 numpy arrays in a plain dict (``HWIO`` for convolutions), which is
what :mod:`.onnx_export` writes and what the model card describes.
"""

from __future__ import annotations

import numpy as np

#: Default channel widths per level (coarsest last).
DEFAULT_WIDTHS = (16, 32, 64)

#: The outputs of the models ``footprints train`` writes, in channel order (the card's ``outputs``).
OUTPUTS = ("building", "interior")


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


def init_params(n_bands: int, widths=DEFAULT_WIDTHS, seed: int = 0, n_out: int = 1) -> dict[str, np.ndarray]:
    """He-initialised weights (``NAME/w`` as HWIO, ``NAME/b``) for ``n_bands`` inputs, ``n_out`` outputs.

    Examples
    --------
    >>> p = init_params(1, (8, 16))
    >>> p["enc0a/w"].shape, p["head/w"].shape
    ((3, 3, 1, 8), (1, 1, 8, 1))
    """
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for name, k, cin, cout in layer_names(widths, n_out):
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
    """
    import jax
    import jax.numpy as jnp

    def conv(name, h):
        w, b = params[f"{name}/w"], params[f"{name}/b"]
        h = jax.lax.conv_general_dilated(h, w, (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return h + b

    def pool(h):
        n, r, c, ch = h.shape
        return h.reshape(n, r // 2, 2, c // 2, 2, ch).max(axis=(2, 4))

    def up(h):
        return jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)

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
        h = jnp.concatenate([up(h), skips[i]], axis=-1)
        h = jax.nn.relu(conv(f"dec{i}a", h))
        h = jax.nn.relu(conv(f"dec{i}b", h))
    out = conv("head", h)
    return out[..., 0] if out.shape[-1] == 1 else out


def n_outputs(params: dict) -> int:
    """Number of output channels of the network with ``params``."""
    return int(np.shape(params["head/w"])[-1])
