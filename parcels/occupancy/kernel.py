"""The occupancy kernel: parcels and footprints in, one row per parcel out (shapely 2).

Pure computation: GeoDataFrames in, a DataFrame out, no files, no connections.
Every engine (:mod:`parcels.occupancy.engines`) gives the same numbers as this.

The rules, exactly
------------------
**Dirty, overlapping footprints are never double counted.** Footprints are ranked by
floor-area weight (descending; see :mod:`parcels.occupancy.storeys`), then by
``footprint_id`` (ascending). Two footprints *overlap* when their interiors intersect
(they intersect and do not merely touch). Each footprint keeps only its **piece**: the
footprint minus the union of the higher-ranked footprints it overlaps. Pieces are
pairwise disjoint and their union is the union of all footprints, so every square
metre is counted once, with the weight of the tallest footprint over it. A duplicate
footprint has an empty piece.

**Built area of a parcel P** = Σ over pieces f intersecting P of

* ``area(f)`` when P *contains f properly* (the fast path, no intersection computed);
* otherwise ``area(f ∩ P)``, unless that part is a **misregistration sliver**.

**Sliver rule.** With ``t = sliver_tolerance_m > 0``, the part ``f ∩ P`` of a piece
that P does not cover is a sliver when its **mean width** ``2 × area / boundary length``
is below ``t``. For a strip of width w and length L the mean width is w·L/(w+L), just
under w; for a square it is half the side. Slivers are the metre-or-two shifts of a
neighbour's building across the boundary: they do not count as built in P; their area is
reported as ``sliver_m2`` so that, for every piece, built parts + slivers + the part
outside all parcels = the piece's area. A part is tested as a whole (a thick part with
a thin tail counts whole). ``t = 0`` disables the rule.

Why not an inward buffer by ``t/2`` (largest inscribed circle)? It was tried: at city
scale (100k slivers with widths spread over 0.2–1.5 m) a few strips always fall within
~1e-5 m of ``t``, where GEOS 3.11 (PostGIS) and GEOS 3.14 (shapely) disagree on whether
the eroded strip is empty, so the engines differed. The mean width is plain arithmetic
on area and length, identical in every engine, and needs no buffer.

**Floor area** = Σ counted part area × the weight of its footprint.

**Building count.** A footprint counts as one building of P when the area counted as
built in P from its piece is at least ``min_overlap_ratio`` × the footprint's own
(full) area, and greater than zero. So a building shifted 1 m over the boundary counts
for the parcel that holds most of it; a duplicate (empty piece) or a crescent left by a
shifted duplicate counts nowhere; with a ratio ≤ 0.5 a building split evenly between two
parcels counts for both.

Measured area is the parcel geometry's area; coverage (建筑系数) = built / measured
area; FAR (容积率) = floor area / measured area. The certificate difference is measured
minus certificate area. Overlapping parcels are not corrected (each gets its share).

Speed: one STRtree over the pieces, queried by prepared parcels; pairs the parcel
contains properly are summed whole; only boundary pairs are intersected, with numpy
when both polygons are convex (:mod:`parcels.occupancy.convex_clip`), else GEOS.
Chunks of parcels run in threads (shapely releases the GIL in its vectorized
functions).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from gis.errors import DataError
from parcels.occupancy.storeys import floor_weights

if TYPE_CHECKING:
    import geopandas as gpd

    from gis.progress import Progress

log = logging.getLogger(__name__)

#: Relative slack when comparing a counted area with ``ratio × footprint area``.
COUNT_SLACK = 1e-9

#: Columns of the per-parcel table, in order.
RESULT_COLUMNS = (
    "parcel_code", "area_m2", "cert_area_m2", "cert_diff_m2", "built_m2", "sliver_m2",
    "coverage", "floor_area_m2", "far", "n_buildings",
)

#: Kinds of a (parcel, footprint piece) pair in :func:`footprint_parts`.
INSIDE, BOUNDARY, SLIVER = "inside", "boundary", "sliver"


@dataclass(frozen=True)
class KernelOptions:
    """Parameters of the occupancy rules (see the module docstring)."""

    min_overlap_ratio: float = 0.5
    sliver_tolerance_m: float = 2.0
    storey_height_m: float = 3.5

    @classmethod
    def from_settings(cls, settings: Any) -> KernelOptions:
        """Build from :class:`gis.settings.Settings`."""
        return cls(float(settings.min_overlap_ratio), float(settings.sliver_tolerance_m),
                   float(settings.storey_height_m))

    def as_params(self) -> dict[str, float]:
        """Plain dict, for run parameters."""
        return asdict(self)


#: The default rules (the settings' defaults).
DEFAULT_OPTIONS = KernelOptions()


@dataclass
class PreparedFootprints:
    """Footprints made ready for the join: valid geometry, weights and pieces."""

    ids: np.ndarray          # int64 footprint ids
    geoms: np.ndarray        # valid shapely geometries (original footprints)
    area: np.ndarray         # float64, area of each footprint
    weight: np.ndarray       # float64 floor-area weight
    pieces: np.ndarray       # footprint minus higher-ranked overlapping footprints
    piece_area: np.ndarray   # float64
    n_overlapping: int       # footprints that lost area to a higher-ranked one
    tree: shapely.STRtree | None = None   # STRtree over the pieces, when already built


def _geometry_array(frame: gpd.GeoDataFrame, what: str, threads: int | None = None,
                    assume_valid: bool = False) -> np.ndarray:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    if missing.any():
        geoms = geoms.copy()
        geoms[missing] = shapely.Polygon()
    return geoms if assume_valid else repair_polygons(geoms, what, threads)


def repair_polygons(geoms: np.ndarray, what: str = "input", threads: int | None = None
                    ) -> np.ndarray:
    """``geoms`` with invalid ones replaced by the polygonal part of ``make_valid``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries (no missing values)
    what : str
        What they are, for the warning that counts repairs.
    threads : int, optional
        Threads for the validity test (default: CPU count).

    Returns
    -------
    numpy.ndarray
        ``geoms`` itself when all are valid, else a repaired copy.
    """
    invalid = ~_threaded(lambda a, _b: shapely.is_valid(a), geoms, geoms, threads)
    if invalid.any():
        log.warning("%d invalid %s geometries repaired with make_valid", int(invalid.sum()), what)
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(g) for g in shapely.make_valid(geoms[invalid])]
    return geoms


def _polygonal(geom):
    """Keep only the polygonal parts of a (repaired) geometry."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _cut_pieces(geoms: np.ndarray, pieces: np.ndarray, left: np.ndarray, right: np.ndarray,
                threads: int | None) -> int:
    """Set ``pieces[i] = geoms[i] − ∪ geoms[right]`` for each ``i`` in ``left`` (in place)."""
    order = np.argsort(left, kind="stable")
    left, right = left[order], right[order]
    starts = np.flatnonzero(np.r_[True, left[1:] != left[:-1]])
    sizes = np.diff(np.r_[starts, left.size])
    single = starts[sizes == 1]
    # one higher-ranked neighbour (the common case): vectorized, in threaded chunks
    if single.size:
        a, b = geoms[left[single]], geoms[right[single]]
        pieces[left[single]] = _threaded(shapely.difference, a, b, threads)
    for s, e in zip(starts[sizes > 1], (starts + sizes)[sizes > 1], strict=True):
        i = left[s]
        pieces[i] = shapely.difference(geoms[i], shapely.union_all(geoms[right[s:e]]))
    return len(starts)


def _threaded(func, a: np.ndarray, b: np.ndarray, threads: int | None,
              chunk: int = 5000) -> np.ndarray:
    """``func(a, b)`` element-wise, chunks in threads (shapely releases the GIL)."""
    threads = threads or os.cpu_count() or 1
    if threads == 1 or a.size <= chunk:
        return func(a, b)
    bounds = range(0, a.size, chunk)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(lambda lo: func(a[lo:lo + chunk], b[lo:lo + chunk]), bounds))
    return np.concatenate(parts)


def prepare_footprints(footprints: gpd.GeoDataFrame,
                       options: KernelOptions = DEFAULT_OPTIONS, *,
                       threads: int | None = None, assume_valid: bool = False
                       ) -> PreparedFootprints:
    """Repair geometry, compute weights and cut overlapping footprints into pieces.

    Parameters
    ----------
    footprints : GeoDataFrame
        Footprint polygons; optional columns ``footprint_id`` (default: 0..n-1),
        ``height_m`` and ``storeys``.
    options : KernelOptions
    threads : int, optional
        Threads for cutting pieces (default: CPU count).
    assume_valid : bool
        The geometries are known valid (e.g. repaired while reading); skip the test.

    Returns
    -------
    PreparedFootprints
    """
    n = len(footprints)
    geoms = _geometry_array(footprints, "footprint", threads, assume_valid)
    if "footprint_id" in footprints.columns:
        ids = footprints["footprint_id"].to_numpy(dtype="int64")
        if not pd.Index(ids).is_unique:
            raise DataError("footprint_id values are not unique", source="footprints")
    else:
        ids = np.arange(n, dtype="int64")
    height = footprints["height_m"] if "height_m" in footprints.columns else [None] * n
    storeys = footprints["storeys"] if "storeys" in footprints.columns else [None] * n
    weight = floor_weights(height, storeys, options.storey_height_m)
    area = shapely.area(geoms)

    pieces = geoms.copy()
    n_overlapping = 0
    tree = None
    if n:
        tree = shapely.STRtree(geoms)
        rank = np.empty(n, dtype="int64")
        rank[np.lexsort((ids, -weight))] = np.arange(n)
        left, right = _overlapping_pairs(tree, geoms, rank, threads)
        if left.size:
            n_overlapping = _cut_pieces(geoms, pieces, left, right, threads)
            log.info("%d overlapping footprints cut into pieces", n_overlapping)
    prepared = PreparedFootprints(ids, geoms, area, weight, pieces,
                                  shapely.area(pieces) if n_overlapping else area, n_overlapping)
    prepared.tree = tree if n_overlapping == 0 else None
    return prepared


def _overlapping_pairs(tree: shapely.STRtree, geoms: np.ndarray, rank: np.ndarray,
                       threads: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(lower-ranked i, higher-ranked j) for every pair whose interiors intersect.

    The tree is queried by envelope only (no predicate: most footprints meet nothing
    but themselves); the exact test, interiors intersecting (DE-9IM ``T********``, i.e.
    intersecting and not merely touching), runs only on the few candidate pairs left
    after dropping self pairs and keeping each pair once, in rank order.
    """
    threads = threads or os.cpu_count() or 1
    chunk = 200_000

    def query(lo):
        left, right = tree.query(geoms[lo:lo + chunk])
        left = left + lo
        keep = rank[right] < rank[left]          # right is the higher-ranked footprint
        return left[keep], right[keep]

    bounds = range(0, geoms.size, chunk)
    if threads == 1 or geoms.size <= chunk:
        parts = [query(lo) for lo in bounds]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(query, bounds))
    left = np.concatenate([p[0] for p in parts])
    right = np.concatenate([p[1] for p in parts])
    if left.size:
        keep = _threaded(lambda a, b: shapely.relate_pattern(a, b, "T********"),
                         geoms[left], geoms[right], threads)
        left, right = left[keep], right[keep]
    return left, right


def _parts_of_chunk(parcel_geoms: np.ndarray, lo: int, hi: int, tree: shapely.STRtree,
                    fp: PreparedFootprints, options: KernelOptions) -> dict[str, np.ndarray]:
    """Classify and measure every (parcel, piece) pair for parcels ``lo:hi``."""
    # envelope candidates; the prepared parcel's contains_properly settles most of them,
    # and only the rest need the intersects test (cheaper than testing every candidate)
    p_local, f = tree.query(parcel_geoms[lo:hi])
    p = p_local.astype("int64") + lo
    a = parcel_geoms[p]
    b = fp.pieces[f]
    inside = shapely.contains_properly(a, b)
    rest = np.flatnonzero(~inside)
    touching = shapely.intersects(a[rest], b[rest])
    if not touching.all():
        keep = inside.copy()
        keep[rest[touching]] = True
        p, f, a, b, inside = p[keep], f[keep], a[keep], b[keep], inside[keep]
    area = np.where(inside, fp.piece_area[f], 0.0)
    kind = np.where(inside, INSIDE, BOUNDARY).astype(object)
    bi = np.flatnonzero(~inside)
    if bi.size:
        parts_area, parts_length = _boundary_measures(p[bi], f[bi], parcel_geoms, fp)
        area[bi] = parts_area
        tol = options.sliver_tolerance_m
        if tol > 0:
            # mean width 2 × area / boundary length below the tolerance
            thin = (parts_area > 0) & (2.0 * parts_area < tol * parts_length)
            cand = bi[thin]
            if cand.size:
                covered = shapely.covers(a[cand], b[cand])
                kind[cand[~covered]] = SLIVER
    is_sliver = kind == SLIVER
    built = np.where(is_sliver, 0.0, area)
    counts = (built > 0) & (
        built >= options.min_overlap_ratio * fp.area[f] * (1.0 - COUNT_SLACK))
    return {
        "parcel": p, "piece": f.astype("int64"), "kind": kind, "area_m2": area,
        "built_m2": built, "sliver_m2": np.where(is_sliver, area, 0.0),
        "floor_area_m2": built * fp.weight[f], "counts": counts,
    }


def _boundary_measures(p: np.ndarray, f: np.ndarray, parcel_geoms: np.ndarray,
                       fp: PreparedFootprints) -> tuple[np.ndarray, np.ndarray]:
    """Area and boundary length of ``parcel ∩ piece`` for boundary pairs.

    Pairs of two convex polygons (nearly all: a rectangular building across the edge of
    a simple parcel) are clipped with numpy (:mod:`parcels.occupancy.convex_clip`);
    the rest go through GEOS.
    """
    from parcels.occupancy.convex_clip import clip_convex, convex_rings

    up, p_idx = np.unique(p, return_inverse=True)
    uf, f_idx = np.unique(f, return_inverse=True)
    px, py, pn, pok = convex_rings(parcel_geoms[up])
    fx, fy, fn, fok = convex_rings(fp.pieces[uf])
    fast = pok[p_idx] & fok[f_idx]
    area = np.empty(p.size)
    length = np.empty(p.size)
    if fast.any():
        i, j = p_idx[fast], f_idx[fast]
        area[fast], length[fast] = clip_convex(px[i], py[i], pn[i], fx[j], fy[j], fn[j])
    slow = ~fast
    if slow.any():
        parts = shapely.intersection(parcel_geoms[p[slow]], fp.pieces[f[slow]])
        area[slow] = shapely.area(parts)
        length[slow] = shapely.length(parts)
    return area, length


def _prepare_parcels(parcels: gpd.GeoDataFrame, threads: int | None = None,
                     assume_valid: bool = False) -> np.ndarray:
    if "parcel_code" not in parcels.columns:
        raise DataError("parcels need a parcel_code column", source="parcels")
    geoms = _geometry_array(parcels, "parcel", threads, assume_valid)
    shapely.prepare(geoms)
    return geoms


def _run_chunks(parcel_geoms, fp, options, threads, chunk_size, progress):
    tree = fp.tree if fp.tree is not None else shapely.STRtree(fp.pieces)
    n = len(parcel_geoms)
    bounds = [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]
    threads = threads or os.cpu_count() or 1

    def work(lohi):
        out = _parts_of_chunk(parcel_geoms, lohi[0], lohi[1], tree, fp, options)
        if progress is not None:
            progress(lohi[1] - lohi[0])
        return out

    if threads > 1 and len(bounds) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(work, bounds))
    else:
        results = [work(b) for b in bounds]
    if not results:
        results = [_parts_of_chunk(parcel_geoms, 0, 0, tree, fp, options)]
    return {k: np.concatenate([r[k] for r in results]) for k in results[0]}


def footprint_parts(parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame,
                    options: KernelOptions = DEFAULT_OPTIONS, *, threads: int | None = None,
                    chunk_size: int = 2000) -> pd.DataFrame:
    """Every (parcel, footprint piece) pair that intersects, classified and measured.

    Parameters
    ----------
    parcels, footprints : GeoDataFrame
        As for :func:`occupancy_kernel`.
    options : KernelOptions
    threads : int, optional
        Worker threads (default: CPU count).
    chunk_size : int
        Parcels per chunk of work.

    Returns
    -------
    DataFrame
        Columns ``parcel_code``, ``footprint_id``, ``kind`` (``inside``, ``boundary``,
        ``sliver``), ``area_m2`` (area of piece ∩ parcel), ``built_m2``, ``sliver_m2``,
        ``floor_area_m2``, ``counts`` (counts as a building of the parcel).
    """
    parcel_geoms = _prepare_parcels(parcels, threads)
    fp = prepare_footprints(footprints, options, threads=threads)
    parts = _run_chunks(parcel_geoms, fp, options, threads, chunk_size, None)
    codes = parcels["parcel_code"].to_numpy()
    frame = pd.DataFrame(parts)
    frame.insert(0, "parcel_code", codes[frame.pop("parcel").to_numpy()])
    frame.insert(1, "footprint_id", fp.ids[frame.pop("piece").to_numpy()])
    return frame


def occupancy_kernel(parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame,
                     options: KernelOptions = DEFAULT_OPTIONS, *, threads: int | None = None,
                     chunk_size: int = 2000, progress: Progress | None = None,
                     assume_valid: bool = False) -> pd.DataFrame:
    """Built area, coverage, floor area, FAR and building count of every parcel.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcel polygons in a projected CRS (metres) with ``parcel_code`` and optionally
        ``cert_area_m2``.
    footprints : GeoDataFrame
        Footprint polygons in the same CRS with optional ``footprint_id``, ``height_m``,
        ``storeys``.
    options : KernelOptions
        Overlap ratio, sliver tolerance, storey height.
    threads : int, optional
        Worker threads (default: CPU count).
    chunk_size : int
        Parcels per chunk of work.
    progress : callable, optional
        Called with the number of parcels finished.
    assume_valid : bool
        All geometries are known valid (as :func:`repair_polygons` leaves them, e.g.
        while reading from PostGIS); skip the validity test. Invalid input then gives
        wrong areas or a GEOS error, so leave this off for anything else.

    Returns
    -------
    DataFrame
        One row per parcel, in input order, columns :data:`RESULT_COLUMNS`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> parcels = gpd.GeoDataFrame({"parcel_code": ["A"]}, geometry=[box(0, 0, 100, 100)])
    >>> fps = gpd.GeoDataFrame({"height_m": [12.0], "storeys": [1]},
    ...                        geometry=[box(10, 10, 50, 60)])
    >>> row = occupancy_kernel(parcels, fps).iloc[0]
    >>> float(row.built_m2), float(row.coverage), float(row.floor_area_m2), int(row.n_buildings)
    (2000.0, 0.2, 4000.0, 1)
    """
    crs = getattr(parcels, "crs", None)
    if crs is not None and crs.is_geographic:
        raise DataError("parcels are in geographic coordinates; reproject to the working CRS "
                        "(metres) before computing areas", source="parcels")
    fcrs = getattr(footprints, "crs", None)
    if crs is not None and fcrs is not None and crs != fcrs:
        raise DataError(f"footprints are in {fcrs.to_string()} but parcels in "
                        f"{crs.to_string()}; reproject one of them", source="footprints")
    parcel_geoms = _prepare_parcels(parcels, threads, assume_valid)
    fp = prepare_footprints(footprints, options, threads=threads, assume_valid=assume_valid)
    parts = _run_chunks(parcel_geoms, fp, options, threads, chunk_size, progress)
    n = len(parcel_geoms)
    p = parts["parcel"]
    area = shapely.area(parcel_geoms)

    def total(key):
        return np.bincount(p, weights=parts[key], minlength=n)

    built = total("built_m2")
    floor = total("floor_area_m2")
    if "cert_area_m2" in parcels.columns:
        cert = pd.to_numeric(parcels["cert_area_m2"], errors="coerce").to_numpy(dtype="float64")
    else:
        cert = np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(area > 0, built / area, np.nan)
        far = np.where(area > 0, floor / area, np.nan)
    return pd.DataFrame({
        "parcel_code": parcels["parcel_code"].to_numpy(),
        "area_m2": area,
        "cert_area_m2": cert,
        "cert_diff_m2": area - cert,
        "built_m2": built,
        "sliver_m2": total("sliver_m2"),
        "coverage": coverage,
        "floor_area_m2": floor,
        "far": far,
        "n_buildings": np.bincount(p, weights=parts["counts"].astype("float64"),
                                   minlength=n).astype("int64"),
    }, columns=list(RESULT_COLUMNS))
