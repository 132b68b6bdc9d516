"""Chunks of parcels: each parcel once, none too big, groups kept whole where they fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcels.occupancy.chunking import chunk_labels


@given(st.integers(0, 400), st.integers(1, 60), st.integers(1, 8), st.integers(0, 2**31))
def test_chunks_partition_the_parcels(n, max_parcels, n_groups, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    groups = rng.integers(0, n_groups, n).astype(str)
    labels = chunk_labels(x, y, groups, max_parcels)
    assert labels.shape == (n,)
    if n == 0:
        return
    counts = np.bincount(labels)
    assert (counts > 0).all()                    # numbered 0..k-1 without gaps
    assert counts.max() <= max_parcels
    for g in np.unique(groups):                  # a group that fits is never split
        members = labels[groups == g]
        if members.size <= max_parcels:
            assert np.unique(members).size == 1
    # chunks are not needlessly many: greedy packing wastes less than half of each
    fits = all((groups == g).sum() <= max_parcels for g in np.unique(groups))
    if fits:
        assert counts.size <= 2 * np.ceil(n / max_parcels) + len(np.unique(groups))


def test_chunks_are_spatially_compact():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1000, 4000), rng.uniform(0, 1000, 4000)
    labels = chunk_labels(x, y, None, 1000)
    assert np.bincount(labels).tolist() == [1000] * 4
    for k in range(4):                          # each chunk covers about a quarter
        sel = labels == k
        w, h = np.ptp(x[sel]), np.ptp(y[sel])
        assert w * h < 0.45 * 1000 * 1000


def test_bad_max():
    with pytest.raises(ValueError, match="max_parcels"):
        chunk_labels([0.0], [0.0], None, 0)
