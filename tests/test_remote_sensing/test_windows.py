import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remote_sensing.windows import tile_grid


@settings(deadline=None, max_examples=80)
@given(h=st.integers(1, 300), w=st.integers(1, 300), tile=st.integers(3, 128), overlap=st.integers(0, 40))
def test_cores_cover_image_exactly_once(h, w, tile, overlap):
    count = np.zeros((h, w), dtype=np.int32)
    for t in tile_grid(h, w, tile, overlap):
        count[t.core_row : t.core_row + t.core_height, t.core_col : t.core_col + t.core_width] += 1
        # the read window contains the core, stays inside the image, adds at most `overlap`
        assert 0 <= t.read_row <= t.core_row and 0 <= t.read_col <= t.core_col
        assert t.read_row + t.read_height <= h and t.read_col + t.read_width <= w
        assert t.core_row - t.read_row == min(overlap, t.core_row)
        assert (t.read_row + t.read_height) - (t.core_row + t.core_height) == min(
            overlap, h - t.core_row - t.core_height)
        rs, cs = t.core_slices
        assert rs.stop - rs.start == t.core_height and cs.stop - cs.start == t.core_width
    assert (count == 1).all()


def test_core_slices_cut_the_core_from_the_read_window():
    img = np.arange(50 * 70).reshape(50, 70)
    for t in tile_grid(50, 70, 16, 5):
        read = img[t.read_row : t.read_row + t.read_height, t.read_col : t.read_col + t.read_width]
        core = img[t.core_row : t.core_row + t.core_height, t.core_col : t.core_col + t.core_width]
        np.testing.assert_array_equal(read[t.core_slices], core)


@pytest.mark.parametrize("args", [(0, 10, 4, 1), (10, 10, 0, 1), (10, 10, 4, -1)])
def test_bad_grid_arguments(args):
    with pytest.raises(ValueError):
        tile_grid(*args)
