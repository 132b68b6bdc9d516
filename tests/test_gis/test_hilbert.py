"""Hilbert curve positions: a bijection on the grid whose consecutive cells are neighbours."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.hilbert import hilbert_index


@given(st.integers(1, 6))
def test_every_cell_once_and_each_step_to_a_neighbour(level):
    n = 1 << level
    xs, ys = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    d = hilbert_index(xs.ravel(), ys.ravel(), (0, 0, n - 1, n - 1), level=level)
    assert sorted(d.tolist()) == list(range(n * n))
    order = np.argsort(d)
    steps = np.abs(np.diff(xs.ravel()[order])) + np.abs(np.diff(ys.ravel()[order]))
    assert (steps == 1).all()


def test_points_outside_the_bounds_are_clamped_and_nan_is_tolerated():
    d = hilbert_index([-5.0, 0.0, 20.0, np.nan], [0.0, 0.0, 10.0, 1.0], (0, 0, 10, 10), level=3)
    assert d[0] == d[1] == 0
    assert 0 <= d[2] < 64 and 0 <= d[3] < 64


def test_degenerate_extent_and_errors():
    assert hilbert_index([3.0, 3.0], [4.0, 4.0]).tolist() == [0, 0]
    assert hilbert_index([], []).size == 0
    with pytest.raises(ValueError, match="level"):
        hilbert_index([0.0], [0.0], level=0)
    with pytest.raises(ValueError, match="length"):
        hilbert_index([0.0, 1.0], [0.0])
