"""The fast kernels of the extraction path equal their slower references exactly.

* vectorized crack following (``polygonize_labels``) against GDAL's polygonize;
* the OpenCV opening against ``scipy.ndimage.binary_opening``;
* the OpenCV labelling against ``scipy.ndimage.label``;
* per-blob height medians from one integer sort against ``height_stats`` blob by blob;
* the nDSM building probability against its two-sigmoid, scipy-filter definition;
* ``regularize_many`` over a batch against the polygons one by one.
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from remote_sensing.masks import TileInputs, max3x3, ndsm_mask
from remote_sensing.polygonize import (
    blob_stats,
    height_stats,
    label_blobs,
    polygonize_labels,
    polygonize_labels_gdal,
)
from remote_sensing.regularize import regularize_many, regularize_polygon
from remote_sensing.tile_kernel import _pad_morph

masks = st.integers(1, 30).flatmap(
    lambda h: st.integers(1, 30).flatmap(
        lambda w: arrays(bool, (h, w), elements=st.booleans())))


@settings(max_examples=150, deadline=None)
@given(masks, st.integers(0, 40), st.integers(0, 40))
def test_trace_equals_gdal_polygonize(mask, row_off, col_off):
    labels, _ = label_blobs(mask)
    ours = polygonize_labels(labels, row_off, col_off)
    ref = polygonize_labels_gdal(labels, row_off, col_off)
    fast = polygonize_labels(labels, row_off, col_off, mask=mask)
    assert ours.keys() == ref.keys() == fast.keys()
    assert all(shapely.equals_exact(fast[k], ours[k], 0) for k in ours)
    for k, poly in ours.items():
        assert poly.is_valid, poly.wkt  # a blob touching itself at a corner: a hole touching the shell
        assert shapely.equals(poly, ref[k])
        assert poly.area == ref[k].area == (labels == k).sum()
        assert len(poly.interiors) == len(ref[k].interiors)


def test_trace_keeps_only_corners_and_handles_the_image_border():
    labels = np.zeros((6, 8), np.int32)
    labels[0:6, 5:8] = 1  # touches the top, right and bottom borders
    labels[2:4, 1:3] = 2
    polys = polygonize_labels(labels, 100, 200)
    assert len(polys[1].exterior.coords) == 5 and polys[1].bounds == (205, 100, 208, 106)
    assert len(polys[2].exterior.coords) == 5 and polys[2].area == 4


@settings(max_examples=150, deadline=None)
@given(masks, st.integers(1, 3))
def test_fast_opening_equals_scipy(mask, k):
    p = np.pad(mask, k + 1, mode="edge")
    ref = ndimage.binary_opening(p, structure=np.ones((3, 3), bool), iterations=k)[k + 1:-(k + 1), k + 1:-(k + 1)]
    assert (_pad_morph(mask, k) == ref).all()


@settings(max_examples=150, deadline=None)
@given(masks)
def test_fast_labelling_equals_scipy(mask):
    ref, n_ref = ndimage.label(mask, structure=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool))
    labels, n = label_blobs(mask)
    assert n == n_ref and labels.dtype == np.int32
    assert (labels == ref).all()


heights = st.floats(-50, 300, width=32, allow_subnormal=False) | st.just(float("nan")) | st.just(-0.0)


@settings(max_examples=200, deadline=None)
@given(masks.flatmap(lambda m: st.tuples(st.just(m), arrays(np.float32, m.shape, elements=heights))))
def test_blob_height_statistics_equal_the_per_blob_reference(case):
    mask, hag = case
    labels, n = label_blobs(mask)
    stats = blob_stats(labels, n, None, hag)
    for k in range(1, n + 1):
        med, p95 = height_stats(hag[labels == k])
        assert np.array_equal([stats["h_med"][k], stats["h_p95"][k]], [med, p95], equal_nan=True)
    assert (stats["n_px"][1:] == np.bincount(labels.ravel(), minlength=n + 1)[1:]).all()


@settings(max_examples=100, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 20), st.integers(1, 20)),
              elements=st.floats(-5, 40, width=32) | st.just(float("nan"))),
       st.sampled_from([0, 0.5, 0.7]))
def test_ndsm_probability_equals_its_definition(hag, frac):
    local = ndimage.maximum_filter(np.nan_to_num(hag, nan=0.0), size=3, mode="nearest")
    assert np.array_equal(max3x3(np.nan_to_num(hag, nan=0.0)), local)

    def sigmoid(z):
        return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)

    ref = sigmoid((hag - 2.5) / 0.25)
    if frac:
        ref = np.minimum(ref, sigmoid((hag - frac * local) / 0.25))
    got = ndsm_mask(TileInputs(valid=np.ones(hag.shape, bool), hag=hag), {"edge_fraction": frac})
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


@settings(max_examples=30, deadline=None)
# a thin box at 27 degrees traces to a staircase whose simplified ring has no orientation
# change: its points once counted toward another ring's wall runs (and crashed alone)
@example([(0, 0, 3, 17, 27.0)])
@example([(0, 0, 3, 3, 0.0), (0, 0, 3, 3, 0.0), (0, 0, 3, 10, 9.0), (0, 0, 3, 17, 27.0)])
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(3, 40), st.integers(3, 40),
                          st.floats(-40, 40)), min_size=1, max_size=12))
def test_regularize_many_equals_one_by_one(boxes):
    from shapely import affinity

    geoms = []
    for x, y, w, h, a in boxes:
        b = affinity.rotate(shapely.box(x, y, x + w, y + h), a)
        m = np.zeros((260, 260), bool)
        from rasterio.features import rasterize

        m |= rasterize([b], out_shape=m.shape).astype(bool)
        labels, _ = label_blobs(m)
        geoms.extend(polygonize_labels(labels).values())
    many = regularize_many(geoms)
    for g, r in zip(geoms, many, strict=True):
        one = regularize_polygon(g)
        assert r.is_valid and shapely.equals_exact(r, one, 1e-9)
        assert abs(r.area - g.area) <= 0.1 * g.area + 1e-9
