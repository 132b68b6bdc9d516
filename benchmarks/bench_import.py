"""Parcel and footprint imports with full validation vs ``ogr2ogr`` plain-loading the same files.

mujun: ``import_parcels`` on the sample city's ``parcels.gpkg`` (100,000
parcels at size ``city``): read, attribute mapping and parsing, geometry
validity and repair, working-CRS choice, degenerate/duplicate/GB/T 37346
checks, the STRtree overlap search with overlap areas, certificate vs measured
area, the staging COPY and the upsert, in one transaction.
ogr2ogr: the same file into its own table with ``PG_USE_COPY=YES`` and a GiST
index, no checks. Both run against the same server in the same run.

Footprints: ``load_footprints`` (the one loader every footprint goes through:
identity hash, chunked read, column mapping, repair, area-of-use check,
reprojection, COPY) on the sample city's ``buildings.gpkg`` against ogr2ogr
loading the same layer.

Printed: seconds for each and the ratios mujun/ogr2ogr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

BENCH_DB = "mujun_bench_import"
SEED = 42


def _sample(size: str, home: Path) -> Path:
    """The sample city's parcels, generated once and cached under the mujun home."""
    from sample.generate import generate_city

    root = home / "cache" / "bench_import" / f"{size}-{SEED}"
    parcels = root / "parcels.gpkg"
    if not (parcels.exists() and (root / "buildings.gpkg").exists()):
        if root.exists():
            shutil.rmtree(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        generate_city(size, SEED, root, imagery=False)
        print(f"generated the {size} sample city in {time.perf_counter() - start:.1f} s",
              flush=True)
    return parcels


def _bench_dsn(settings) -> str:
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect

    if settings.dsn:
        base = str(settings.dsn)
        with connect(base, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (BENCH_DB,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
        return make_conninfo(base, dbname=BENCH_DB)
    from gis.db.cluster import LocalCluster

    cluster = LocalCluster(settings)
    cluster.start()
    cluster.ensure_database(BENCH_DB)
    return cluster.dsn_for(BENCH_DB)


def _ogr2ogr(exe: str, dsn: str, src: Path, table: str, layer: str | None = None) -> float:
    """Seconds ogr2ogr takes to COPY one layer into its own table (no checks)."""
    env = dict(os.environ, PG_USE_COPY="YES")
    start = time.perf_counter()
    subprocess.run(
        [exe, "-f", "PostgreSQL", f"PG:{dsn}", str(src), *([layer] if layer else []),
         "-nln", table, "-lco", "SPATIAL_INDEX=GIST", "-lco", "GEOMETRY_NAME=geom",
         "-nlt", "PROMOTE_TO_MULTI", "-overwrite", "--config", "PG_USE_COPY", "YES"],
        check=True, env=env, capture_output=True, text=True)
    return time.perf_counter() - start


def main(size: str = "city") -> dict:
    """Run the comparison at ``size``; print seconds and the mujun/ogr2ogr ratio."""
    from gis.db.connection import connect
    from gis.db.migrations import migrate
    from gis.settings import load_settings
    from parcels.importing.parcel_import import import_parcels

    settings = load_settings()
    parcels = _sample(size, settings.home_path)
    dsn = _bench_dsn(settings)
    exe = shutil.which("ogr2ogr")
    if exe is None:
        raise SystemExit("ogr2ogr not found: apt-get install gdal-bin")

    with connect(dsn) as conn:
        migrate(conn)
        conn.execute("TRUNCATE parcel, import_batch, mujun_setting RESTART IDENTITY CASCADE")
        conn.commit()
        start = time.perf_counter()
        result = import_parcels(conn, parcels, settings=settings)
        mujun_s = time.perf_counter() - start
    report = result.report
    print(f"mujun import parcels: {mujun_s:.1f} s for {report.n_read} parcels "
          f"({report.n_loaded} loaded, {len(report.warnings)} warnings: {report.counts()})",
          flush=True)

    ogr_s = _ogr2ogr(exe, dsn, parcels, "ogr_parcel")
    print(f"ogr2ogr (PG_USE_COPY=YES, no checks): {ogr_s:.1f} s", flush=True)
    ratio = mujun_s / ogr_s if ogr_s else float("nan")
    print(f"ratio mujun/ogr2ogr: {ratio:.2f}", flush=True)

    from gis.importing.footprints import load_footprints

    buildings = parcels.with_name("buildings.gpkg")
    with connect(dsn) as conn:
        conn.execute("TRUNCATE footprint RESTART IDENTITY CASCADE")
        conn.commit()
        start = time.perf_counter()
        fp = load_footprints(conn, buildings, layer="buildings", survey_date="2024-01-01",
                             settings=settings)
        fp_s = time.perf_counter() - start
    print(f"mujun load_footprints: {fp_s:.1f} s for {fp.report.n_read} footprints "
          f"({fp.report.n_loaded} loaded)", flush=True)
    fp_ogr_s = _ogr2ogr(exe, dsn, buildings, "ogr_footprint", "buildings")
    fp_ratio = fp_s / fp_ogr_s if fp_ogr_s else float("nan")
    print(f"ogr2ogr footprints (no checks): {fp_ogr_s:.1f} s; ratio mujun/ogr2ogr: "
          f"{fp_ratio:.2f}", flush=True)
    return {"size": size, "parcels": report.n_read, "mujun_s": mujun_s, "ogr2ogr_s": ogr_s,
            "ratio": ratio, "checks": report.counts(), "footprints": fp.report.n_read,
            "footprints_mujun_s": fp_s, "footprints_ogr2ogr_s": fp_ogr_s,
            "footprints_ratio": fp_ratio}
