"""Object post-processing: probability map to buildings (hysteresis, holes, splitting, size)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from remote_sensing.objects import (
    FOUR,
    blob_mask,
    fill_small_holes,
    hysteresis,
    objects_mask,
    split_and_drop,
)


def n_objects(mask):
    return ndimage.label(mask, structure=FOUR)[1]


def test_hysteresis_keeps_weak_parts_of_seeded_blobs_only():
    p = np.zeros((10, 20), np.float32)
    p[2:8, 2:8] = 0.5
    p[4, 4] = 0.9  # seeded: the whole weak blob stays
    p[2:8, 12:18] = 0.5  # no seed: dropped
    m = hysteresis(p, 0.4, 0.7)
    assert m[2:8, 2:8].all() and not m[:, 10:].any()


def test_small_holes_are_filled_large_courtyards_kept():
    m = np.zeros((40, 40), bool)
    m[2:38, 2:38] = True
    m[5:7, 5:7] = False  # 4 px skylight
    m[15:30, 15:30] = False  # 225 px courtyard
    out = fill_small_holes(m, 50)
    assert out[5:7, 5:7].all() and not out[15:30, 15:30].any()


def test_touching_roofs_are_split_along_the_weak_wall_and_fragments_dropped():
    p = np.zeros((30, 50), np.float32)
    p[5:25, 3:23] = 0.95
    p[5:25, 24:46] = 0.9
    p[5:25, 23] = 0.5  # the party wall shows as a valley
    p[27, 2:4] = 0.95  # a 2-pixel fragment
    thresholded = p >= 0.5
    assert n_objects(thresholded) == 2  # one merged block + the fragment
    m = objects_mask(p, min_px=20)
    labels, n = ndimage.label(m, structure=FOUR)
    assert n == 2
    sizes = sorted(np.bincount(labels.ravel())[1:])
    assert sizes[0] >= 20 * 19 and sizes[1] >= 20 * 21  # each roof nearly whole (a 1 px cut line)
    assert not m[27].any()


def test_a_single_roof_with_a_dark_patch_stays_one_building():
    p = np.full((30, 30), 0.0, np.float32)
    p[3:27, 3:27] = 0.9
    p[12:15, 12:15] = 0.2  # chimney shadow: a hole, filled
    m = objects_mask(p, min_px=16)
    assert n_objects(m) == 1 and m[12:15, 12:15].all()


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, (24, 24), elements=st.floats(0, 1, width=32)),
       st.floats(0.2, 0.5), st.floats(0.55, 0.9), st.integers(1, 30))
def test_objects_properties(prob, low, high, min_px):
    """Objects lie where prob >= low (after hole filling), each holds a seed and is big enough."""
    prob = ndimage.uniform_filter(prob, 3)  # smooth like a network output
    valid = np.ones_like(prob, bool)
    valid[:, :3] = False
    m = objects_mask(prob, valid=valid, low=low, high=high, split=None, min_px=min_px,
                     max_hole_px=0)
    assert not m[:, :3].any()
    assert (prob[m] >= low).all()
    labels, n = ndimage.label(m, structure=FOUR)
    if n:
        sizes = np.bincount(labels.ravel())[1:]
        assert sizes.min() >= min_px
        seeded = ndimage.maximum(prob, labels, np.arange(1, n + 1))
        assert (np.asarray(seeded) >= high).all()
    # splitting only removes pixels (cut lines), never adds any
    m2 = objects_mask(prob, valid=valid, low=low, high=high, split=high, min_px=min_px, max_hole_px=0)
    assert not (m2 & ~hysteresis(prob, low, high)).any()


def test_touching_roofs_without_a_valley_are_split_by_their_interiors():
    """Two roofs wall to wall, equally bright across the wall: the building probability alone
    sees one block; the interior output (each roof shrunk from its outline) has two blobs,
    which seed the cut."""
    p = np.zeros((30, 50), np.float32)
    p[5:25, 3:47] = 0.95  # one uniform block: no valley at the party wall (column 23)
    inner = np.zeros_like(p)
    inner[8:22, 6:20] = 0.9  # west roof's interior
    inner[8:22, 27:44] = 0.9  # east roof's interior
    assert n_objects(objects_mask(p, min_px=20)) == 1
    m = objects_mask(p, min_px=20, interior=inner)
    labels, n = ndimage.label(m, structure=FOUR)
    assert n == 2
    assert labels[15, 10] != labels[15, 40]
    # the cut runs between the interiors; each roof keeps nearly all its pixels (a 1 px line)
    assert (~m[5:25, 3:47]).sum() == 20
    cut = np.flatnonzero(~m[15, 3:47]) + 3
    assert len(cut) == 1 and 20 <= cut[0] <= 27


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, (24, 24), elements=st.floats(0, 1, width=32)),
       arrays(np.float32, (24, 24), elements=st.floats(0, 1, width=32)), st.integers(1, 30))
def test_interior_seeds_only_cut_never_add(prob, inner, min_px):
    """With interior seeds the objects are the seedless objects minus cut lines."""
    prob, inner = ndimage.uniform_filter(prob, 3), ndimage.uniform_filter(inner, 3)
    plain = objects_mask(prob, split=None, min_px=min_px, max_hole_px=0)
    seeded = objects_mask(prob, min_px=min_px, max_hole_px=0, interior=inner)
    assert not (seeded & ~plain).any()
    assert n_objects(seeded) >= n_objects(plain) - (plain & ~seeded).sum()  # a cut may drop a sliver


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, (24, 24), elements=st.floats(0, 1, width=32)),
       arrays(np.float32, (24, 24), elements=st.floats(0, 1, width=32)),
       st.integers(1, 20), st.integers(0, 30), st.integers(0, 30))
def test_the_objects_do_not_depend_on_empty_surroundings(prob, inner, min_px, top, left):
    """The interior-seeded split works on the box of the blobs it cuts: the same maps inside
    larger empty ones give the same objects, shifted. (The watershed split of one-output
    models is not held to this: its ties fall by position, before and after the box.)"""
    prob, inner = ndimage.uniform_filter(prob, 3), ndimage.uniform_filter(inner, 3)
    alone = objects_mask(prob, low=0.3, high=0.55, min_px=min_px, interior=inner)
    big_p = np.zeros((24 + top + 7, 24 + left + 5), np.float32)
    big_i = np.zeros_like(big_p)
    big_p[top:top + 24, left:left + 24] = prob
    big_i[top:top + 24, left:left + 24] = inner
    inside = objects_mask(big_p, low=0.3, high=0.55, min_px=min_px, interior=big_i)
    assert np.array_equal(inside[top:top + 24, left:left + 24], alone)
    assert inside.sum() == alone.sum()


def test_blob_mask_then_split_and_drop_is_objects_mask():
    rng = np.random.default_rng(3)
    prob = ndimage.gaussian_filter(rng.random((60, 80)), 2)
    prob = (prob - prob.min()) / (prob.max() - prob.min())
    inner = np.roll(prob, 3, axis=1)
    for options in ({"split": 0.7}, {"interior": inner, "seed": 0.6}, {"split": None}):
        mask = blob_mask(prob, low=0.35, high=0.6, min_px=12)
        before = mask.copy()
        two_steps = split_and_drop(mask, prob, min_px=12, **options)
        assert np.array_equal(mask, before)                     # the kept blob mask is untouched
        assert np.array_equal(two_steps, objects_mask(prob, low=0.35, high=0.6, min_px=12,
                                                      **options))
