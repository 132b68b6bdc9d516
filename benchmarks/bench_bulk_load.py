"""Bulk load: mujun (pyogrio + validation + copy_frame + GiST) vs ogr2ogr (COPY + GiST).

Both load the same sample-city GeoPackages (parcels + building footprints) into
the same PostGIS server in the same run: mujun into the real ``parcel`` and
``footprint`` tables of a dedicated benchmark database, ogr2ogr into tables of
its own schema there. mujun's time includes reading, ``shapely.is_valid`` on
every geometry, ``make_valid`` on the invalid ones, reprojection when needed,
the COPY and the spatial index build; ogr2ogr's includes its COPY and index.

mujun reads the file in Arrow batches in a thread and streams them through
one COPY (:func:`gis.db.copy.copy_frames`), so reading and validating the next
batch overlaps with the server parsing this one, as ogr2ogr overlaps its
reading with its COPY.

Printed: seconds for each and the ratio mujun/ogr2ogr (target <= 1.0).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Fallback grid sizes (parcels) when sample is not available.
GRID_PARCELS = {"small": 2_000, "city": 100_000, "province": 2_000_000}
BUILDINGS_PER_PARCEL = 10
BENCH_DB = "mujun_bench"
OGR_SCHEMA = "ogr_bench"
WORKING_SRID = 4549  # CGCS2000 3-degree GK zone, CM 120E (the sample city's zone)


def _sample_files(size: str, out: Path) -> tuple[Path, Path, str]:
    """(parcels.gpkg, buildings.gpkg, origin) — the sample city, or a generated grid."""
    out.mkdir(parents=True, exist_ok=True)
    city_dir = out / "city"
    parcels, buildings = city_dir / "parcels.gpkg", city_dir / "buildings.gpkg"
    if parcels.exists() and buildings.exists():
        return parcels, buildings, "sample city (cached)"
    try:
        from sample import generate_city
    except ImportError:
        generate_city = None
    if generate_city is not None:
        city = generate_city(size, 42, city_dir, imagery=False)
        p = Path(getattr(city, "parcels", parcels))
        b = Path(getattr(city, "buildings", buildings))
        return p, b, "sample city (sample.generate_city)"
    grid_dir = out / "grid"
    parcels, buildings = grid_dir / "parcels.gpkg", grid_dir / "buildings.gpkg"
    if not (parcels.exists() and buildings.exists()):
        _write_grid(GRID_PARCELS[size], grid_dir)
    return parcels, buildings, "fallback grid (sample not available)"


def _write_grid(n_parcels: int, out: Path) -> None:
    """A simple city: square parcels on a grid, ~10 rotated rectangular buildings each."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    rng = np.random.default_rng(42)
    out.mkdir(parents=True, exist_ok=True)
    side = int(np.ceil(np.sqrt(n_parcels)))
    cell = 80.0
    x0, y0 = 500_000.0, 3_450_000.0
    idx = np.arange(n_parcels)
    px, py = x0 + (idx % side) * cell, y0 + (idx // side) * cell
    parcel_geoms = shapely.box(px, py, px + cell, py + cell)
    parcels = gpd.GeoDataFrame(
        {
            "parcel_code": [f"320506{i // 1000:03d}{i % 1000:03d}GB{i:05d}"[:19] for i in idx],
            "land_use_code": rng.choice(["0601", "0602", "0604"], n_parcels),
            "cert_area_m2": np.round(cell * cell * rng.uniform(0.97, 1.03, n_parcels), 2),
            "supply_date": np.datetime64("2010-01-01") + rng.integers(0, 5000, n_parcels)
            .astype("timedelta64[D]"),
            "town": rng.choice(["城南镇", "城北镇", "开发区", "高新区"], n_parcels),
        },
        geometry=parcel_geoms, crs=WORKING_SRID,
    )
    nb = n_parcels * BUILDINGS_PER_PARCEL
    owner = np.repeat(idx, BUILDINGS_PER_PARCEL)
    k = np.tile(np.arange(BUILDINGS_PER_PARCEL), n_parcels)
    cx = px[owner] + 8 + (k % 5) * 15 + rng.uniform(-1, 1, nb)
    cy = py[owner] + 15 + (k // 5) * 40 + rng.uniform(-1, 1, nb)
    w, h = rng.uniform(5, 12, nb), rng.uniform(8, 30, nb)
    ang = rng.uniform(-0.2, 0.2, nb)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float) / 2
    ca, sa = np.cos(ang)[:, None], np.sin(ang)[:, None]
    xs = corners[:, 0][None, :] * w[:, None]
    ys = corners[:, 1][None, :] * h[:, None]
    coords = np.stack([cx[:, None] + xs * ca - ys * sa, cy[:, None] + xs * sa + ys * ca], axis=-1)
    geoms = shapely.polygons(coords)
    # ~0.1 % bow-tie (invalid) footprints, as real hand-overs have
    bad = rng.choice(nb, max(1, nb // 1000), replace=False)
    bowtie = coords[bad][:, [0, 2, 1, 3, 0], :]
    geoms[bad] = shapely.polygons(bowtie)
    height = np.round(rng.lognormal(2.3, 0.5, nb), 1)
    buildings = gpd.GeoDataFrame(
        {"height_m": height, "storeys": np.maximum(1, np.round(height / 3.5)).astype("int16"),
         "source": "survey", "method": "sample"},
        geometry=geoms, crs=WORKING_SRID,
    )
    pyogrio.write_dataframe(parcels, out / "parcels.gpkg", layer="parcels")
    pyogrio.write_dataframe(buildings, out / "buildings.gpkg", layer="buildings")


def _bench_dsn(settings) -> str:
    from psycopg.conninfo import make_conninfo

    if settings.dsn:
        from gis.db.connection import connect

        base = str(settings.dsn)
        with connect(base, autocommit=True) as conn:
            _create_db(conn)
        return make_conninfo(base, dbname=BENCH_DB)
    from gis.db.cluster import LocalCluster

    cluster = LocalCluster(settings)
    cluster.start()
    cluster.ensure_database(BENCH_DB)
    return cluster.dsn_for(BENCH_DB)


def _create_db(conn) -> None:
    from psycopg import sql

    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def _validate(gdf, target_srid: int, stats: dict[str, float]):
    """``shapely.is_valid`` on every geometry, ``make_valid`` on the invalid, reproject."""
    import geopandas as gpd
    import shapely

    start = time.perf_counter()
    geoms = gdf.geometry.array.to_numpy() if hasattr(gdf.geometry.array, "to_numpy") else \
        gdf.geometry.to_numpy()
    valid = shapely.is_valid(geoms)
    n_invalid = int((~valid).sum())
    if n_invalid:
        geoms = geoms.copy()
        geoms[~valid] = shapely.make_valid(geoms[~valid], method="structure",
                                           keep_collapsed=False)
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    if gdf.crs is not None and gdf.crs.to_epsg() != target_srid:
        gdf = gdf.to_crs(target_srid)
    stats["validate"] = stats.get("validate", 0.0) + time.perf_counter() - start
    stats["n_invalid"] = stats.get("n_invalid", 0) + n_invalid
    return gdf


def read_valid_batches(path: Path, target_srid: int, stats: dict[str, float],
                       batch_size: int = 100_000) -> Iterator[Any]:
    """Yield validated GeoDataFrames of ``batch_size`` features read with pyogrio (Arrow)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    with pyogrio.open_arrow(path, batch_size=batch_size, use_pyarrow=True) as (meta, reader):
        geom_name = meta.get("geometry_name") or "wkb_geometry"
        crs = meta.get("crs")
        for batch in reader:
            start = time.perf_counter()
            attrs = batch.drop_columns([geom_name]).to_pandas()
            wkb = batch.column(geom_name).to_numpy(zero_copy_only=False)
            gdf = gpd.GeoDataFrame(attrs, geometry=shapely.from_wkb(wkb), crs=crs)
            stats["read"] = stats.get("read", 0.0) + time.perf_counter() - start
            yield _validate(gdf, target_srid, stats).rename_geometry("geom")


def _in_thread(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run a generator in a thread, ``depth`` items ahead (overlaps reading with COPY)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in items:
                q.put(item)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        q.put(done)

    threading.Thread(target=produce, daemon=True).start()  # starts now, not on first next()

    def consume() -> Iterator[Any]:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    return consume()


def _load_mujun(dsn: str, parcels: Path, buildings: Path, copy_format: str) -> dict[str, float]:
    from psycopg import sql

    from gis.db.connection import connect
    from gis.db.copy import copy_frames, table_columns
    from gis.db.migrations import migrate
    from gis.db.srid import set_working_srid

    with connect(dsn) as conn:
        migrate(conn)
    times: dict[str, float] = {}
    # Library imports are a one-off per process (reported, not counted; ogr2ogr's
    # shared libraries are likewise already in the page cache).
    start = time.perf_counter()
    import geopandas  # noqa: F401
    import pyarrow  # noqa: F401
    import pyogrio  # noqa: F401
    times["imports_not_counted"] = time.perf_counter() - start
    start_all = time.perf_counter()
    with connect(dsn) as conn:
        # Both files are read and validated by background threads from the start:
        # the buildings reader works while the parcels are being copied.
        readers = {}
        for name, path, table in (("parcels", parcels, "parcel"),
                                  ("buildings", buildings, "footprint")):
            cols = table_columns(conn, table)
            conn.rollback()
            stats: dict[str, float] = {}

            def prepared(batches, table=table, cols=cols):
                offset = 0
                for gdf in batches:
                    if table == "parcel" and "parcel_code" not in gdf.columns:
                        gdf["parcel_code"] = [f"P{offset + i:08d}" for i in range(len(gdf))]
                    offset += len(gdf)
                    yield gdf[[c for c in gdf.columns if c in cols and not cols[c]["generated"]
                               and c != "batch_id"]]

            readers[name] = (stats, _in_thread(prepared(read_valid_batches(path, WORKING_SRID,
                                                                            stats))))
        for name, table, index in (("parcels", "parcel", "parcel_geom_idx"),
                                   ("buildings", "footprint", "footprint_geom_idx")):
            stats, batches = readers[name]
            first = next(batches)
            start = time.perf_counter()
            with conn.transaction():
                # Truncate in the loading transaction: with wal_level=minimal the
                # COPY then skips WAL; the GiST index is built once, after the rows.
                conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE")
                             .format(sql.Identifier(table)))
                conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index)))
                if table == "parcel":
                    set_working_srid(conn, WORKING_SRID)
                n = copy_frames(conn, table, itertools.chain([first], batches),
                                list(first.columns), format=copy_format)
                times[f"{name}_read_validate_copy"] = time.perf_counter() - start
                start = time.perf_counter()
                conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)")
                             .format(sql.Identifier(index), sql.Identifier(table)))
                times[f"{name}_index"] = time.perf_counter() - start
            times[f"{name}_rows"] = n
            times[f"{name}_n_invalid"] = stats.get("n_invalid", 0)
            times[f"{name}_read_cpu"] = stats.get("read", 0.0)
            times[f"{name}_validate_cpu"] = stats.get("validate", 0.0)
    times["total"] = time.perf_counter() - start_all
    return times


def _load_ogr2ogr(dsn: str, parcels: Path, buildings: Path) -> dict[str, float]:
    from psycopg import sql

    from gis.db.connection import connect

    exe = shutil.which("ogr2ogr")
    if exe is None:
        raise SystemExit("ogr2ogr not found: apt-get install gdal-bin")
    with connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(OGR_SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(OGR_SCHEMA)))
    env = dict(os.environ, PG_USE_COPY="YES")
    times: dict[str, float] = {}
    start_all = time.perf_counter()
    for name, path in (("parcels", parcels), ("buildings", buildings)):
        start = time.perf_counter()
        subprocess.run(
            [exe, "-f", "PostgreSQL", f"PG:{dsn}", str(path), "-nln", f"{OGR_SCHEMA}.{name}",
             "-lco", "SPATIAL_INDEX=GIST", "-lco", "GEOMETRY_NAME=geom",
             "-nlt", "PROMOTE_TO_MULTI", "-overwrite", "--config", "PG_USE_COPY", "YES"],
            check=True, env=env, capture_output=True, text=True,
        )
        times[name] = time.perf_counter() - start
    times["total"] = time.perf_counter() - start_all
    return times


def main(size: str = "city", copy_format: str = "binary") -> dict:
    """Run the comparison at ``size`` and print seconds and the mujun/ogr2ogr ratio."""
    from gis.settings import load_settings

    settings = load_settings()
    bench_dir = settings.home_path / "bench" / size
    parcels, buildings, origin = _sample_files(size, bench_dir)
    print(f"data: {origin}: {parcels} + {buildings}", flush=True)
    for path in (parcels, buildings):  # warm the page cache equally for both loaders
        with path.open("rb") as f:
            while f.read(1 << 24):
                pass
    dsn = _bench_dsn(settings)
    ogr = _load_ogr2ogr(dsn, parcels, buildings)
    print(f"ogr2ogr: {ogr['total']:.1f} s (parcels {ogr['parcels']:.1f} s, "
          f"buildings {ogr['buildings']:.1f} s)", flush=True)
    mj = _load_mujun(dsn, parcels, buildings, copy_format)
    detail = ", ".join(f"{k} {v:.2f}" for k, v in mj.items() if k != "total"
                       and not k.endswith(("_rows", "_n_invalid")))
    print(f"mujun ({copy_format} COPY): {mj['total']:.1f} s ({detail})", flush=True)
    print(f"rows: parcels {mj['parcels_rows']:,}, buildings {mj['buildings_rows']:,}; "
          f"invalid repaired: {mj['parcels_n_invalid'] + mj['buildings_n_invalid']:,}")
    ratio = mj["total"] / ogr["total"]
    print(f"ratio mujun/ogr2ogr: {ratio:.2f} (target <= 1.0)", flush=True)
    return {"data": origin, "size": size, "copy_format": copy_format, "mujun_s": mj["total"],
            "ogr2ogr_s": ogr["total"], "ratio": ratio, "mujun": mj, "ogr2ogr": ogr}


if __name__ == "__main__":  # pragma: no cover
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "city")
