"""A grid of tiles over an image: cores that partition it, reads that overlap.

Each :class:`Tile` has a *core* window; the cores of all tiles cover the image
exactly once. Work on a tile reads the core grown by ``overlap`` pixels on
every side (clipped to the image) so filters, texture and model context are
the same as on the whole image, and then keeps only the core. Pure arithmetic,
no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """One tile: its core window and the overlapping window to read.

    All values are pixel offsets and sizes in the full image.
    """

    index: int
    row: int
    col: int
    core_row: int
    core_col: int
    core_height: int
    core_width: int
    read_row: int
    read_col: int
    read_height: int
    read_width: int

    @property
    def core_slices(self) -> tuple[slice, slice]:
        """Slices that cut the core out of an array read with the read window."""
        r0 = self.core_row - self.read_row
        c0 = self.core_col - self.read_col
        return slice(r0, r0 + self.core_height), slice(c0, c0 + self.core_width)

    def describe(self) -> str:
        """Human-readable window, used in error messages."""
        return (
            f"tile {self.index} window col_off={self.core_col} row_off={self.core_row} "
            f"width={self.core_width} height={self.core_height}"
        )


def tile_grid(height: int, width: int, tile_size: int = 1024, overlap: int = 32) -> list[Tile]:
    """Cut a ``height`` x ``width`` image into tiles with overlapping reads.

    Parameters
    ----------
    height, width : int
        Image size in pixels (both >= 1).
    tile_size : int
        Side of a core window (the last row/column of tiles may be smaller).
    overlap : int
        Extra pixels read on each side of a core (clipped to the image).

    Returns
    -------
    list of Tile
        Row-major; cores partition the image.

    Examples
    --------
    >>> [(t.core_col, t.core_width, t.read_col, t.read_width) for t in tile_grid(1, 10, 4, 1)]
    [(0, 4, 0, 5), (4, 4, 3, 6), (8, 2, 7, 3)]
    """
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height} x {width}")
    if tile_size < 1:
        raise ValueError(f"tile_size must be >= 1, got {tile_size}")
    if overlap < 0:
        raise ValueError(f"overlap must be >= 0, got {overlap}")
    return list(_iter_tiles(height, width, tile_size, overlap))


def _iter_tiles(height: int, width: int, tile_size: int, overlap: int) -> Iterator[Tile]:
    index = 0
    for i, r in enumerate(range(0, height, tile_size)):
        ch = min(tile_size, height - r)
        r0 = max(0, r - overlap)
        r1 = min(height, r + ch + overlap)
        for j, c in enumerate(range(0, width, tile_size)):
            cw = min(tile_size, width - c)
            c0 = max(0, c - overlap)
            c1 = min(width, c + cw + overlap)
            yield Tile(index, i, j, r, c, ch, cw, r0, c0, r1 - r0, c1 - c0)
            index += 1
