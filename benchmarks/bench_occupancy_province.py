"""Occupancy at province scale on one machine: time and peak memory of ``mujun occupancy``.

The province input is the occupancy benchmark's city sample (seed 1, ~138k parcels
and ~1.08M footprints) laid out ``TILES × TILES`` times side by side with 2 km gaps:
16 copies give ~2.2M parcels and ~17M footprints, the issue's "2 M parcels" (the
generator's own ``province`` size would take hours to build here). Each copy's
parcel codes, towns and districts are suffixed with the copy number.

Loaded once into ``mujun_bench_occupancy_province`` (GiST indexes built after the
COPY), then measured: ``mujun occupancy --engine vector`` end to end in a fresh
process (read in Hilbert chunks of parcels, kernel, tenants, stored run), its wall
time and peak RSS sampled with psutil; the in-database part is the server's own.

Printed: counts, seconds, parcels per second, peak RSS, and the ratio of the time per
parcel to the city run's (the same engine on one copy, in the same run); the province
once with threads in one process and once with ``--processes 2`` (the default there).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np

TILES = {"small": 2, "city": 4, "province": 4}
GAP_M = 2000.0
SEED = 1


def _tiled_database(settings, size: str) -> tuple[str, dict[str, int]]:
    """DSN of the province database, built from the city sample when missing."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from benchmarks.bench_occupancy import _read, _sample
    from gis.db.connection import connect
    from gis.db.copy import copy_frame
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.db.srid import set_working_srid

    base = "small" if size == "small" else "city"
    tiles = TILES[size]
    server = database_dsn(settings)
    name = f"mujun_bench_occupancy_{base}_x{tiles * tiles}"
    dsn = make_conninfo(server, dbname=name)
    with connect(server, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               (name,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with connect(dsn) as conn:
        migrate(conn)
        row = conn.execute("SELECT value FROM mujun_setting WHERE key = 'bench_complete'"
                           ).fetchone()
        if row:
            return dsn, json.loads(row[0])
        folder = settings.home_path / "bench" / f"sample-{base}-{SEED}"
        parcels, buildings = _read(*_sample(base, folder))
        xmin, ymin, xmax, ymax = parcels.total_bounds
        step_x, step_y = xmax - xmin + GAP_M, ymax - ymin + GAP_M
        srid = parcels.crs.to_epsg()
        print(f"building the province database: {tiles}×{tiles} copies of {len(parcels):,} "
              f"parcels and {len(buildings):,} footprints", flush=True)
        start = time.perf_counter()
        conn.execute("TRUNCATE parcel, footprint, land_right, occupancy, enterprise_land, run"
                     " CASCADE")
        conn.execute("DROP INDEX IF EXISTS parcel_geom_idx, footprint_geom_idx,"
                     " footprint_batch_idx")
        set_working_srid(conn, srid)
        n_fp = len(buildings)
        for t in range(tiles * tiles):
            dx, dy = (t % tiles) * step_x, (t // tiles) * step_y
            p = parcels.copy()
            p["geometry"] = p.geometry.translate(dx, dy)
            p["parcel_code"] = p["parcel_code"].astype(str) + f"-{t:02d}"
            for col in ("town", "district"):
                if col in p:
                    p[col] = p[col].astype(str) + f"-{t:02d}"
            f = buildings.copy()
            f["geometry"] = f.geometry.translate(dx, dy)
            f["footprint_id"] = f["footprint_id"].to_numpy() + t * n_fp
            copy_frame(conn, "parcel", p.rename_geometry("geom"), srid=srid)
            copy_frame(conn, "footprint", f.rename_geometry("geom"), srid=srid)
            print(f"  copy {t + 1}/{tiles * tiles} loaded", flush=True)
        conn.execute("CREATE INDEX parcel_geom_idx ON parcel USING gist (geom)")
        conn.execute("CREATE INDEX footprint_geom_idx ON footprint USING gist (geom)")
        conn.execute("CREATE INDEX footprint_batch_idx ON footprint (batch_id)")
        counts = {"parcels": len(parcels) * tiles * tiles, "footprints": n_fp * tiles * tiles,
                  "copies": tiles * tiles}
        conn.execute("INSERT INTO mujun_setting (key, value) VALUES ('bench_complete', %s)",
                     (json.dumps(counts),))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE parcel")
        conn.execute("VACUUM ANALYZE footprint")
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    return dsn, counts


def _measure(dsn: str, engine: str, processes: int) -> dict[str, Any]:
    """``mujun occupancy --engine ENGINE --json`` in a fresh process: wall time, peak RSS."""
    from benchmarks._process import run_measured

    env = {**os.environ, "MUJUN_DSN": dsn, "MUJUN_PROGRESS": "off"}
    run = run_measured([sys.executable, "-m", "gis.cli.main", "occupancy", "--engine", engine,
                        "--json", "--year", "2024", "--processes", str(processes)],
                       env=env, interval=0.1)
    if run.returncode != 0:
        raise RuntimeError(f"mujun occupancy failed ({run.returncode}): {run.stderr[-3000:]}")
    return {"seconds": round(run.seconds, 1), "peak_rss_mb": round(run.peak_rss_mb, 0),
            "summary": json.loads(run.stdout)}


def main(size: str = "city") -> dict:
    """Build (once) and measure the tiled province; compare per-parcel time with one copy."""
    from psycopg.conninfo import make_conninfo

    from benchmarks.bench_occupancy import _database, _read, _sample
    from gis.db.database import database_dsn
    from gis.settings import load_settings

    settings = load_settings()
    base = "small" if size == "small" else "city"
    # one copy (the occupancy benchmark's database), measured the same way
    folder = settings.home_path / "bench" / f"sample-{base}-{SEED}"
    parcels, buildings = _read(*_sample(base, folder))
    _database(settings, base, parcels, buildings).close()
    one = _measure(make_conninfo(database_dsn(settings),
                                 dbname=f"mujun_bench_occupancy_{base}"), "vector", processes=1)
    del parcels, buildings
    dsn, counts = _tiled_database(settings, size)
    many = _measure(dsn, "vector", processes=1)
    spread = _measure(dsn, "vector", processes=2)
    n_one = one["summary"]["parcels"]
    n_many = many["summary"]["parcels"]
    ratio = (many["seconds"] / n_many) / (one["seconds"] / n_one)
    figures = {
        "copies": counts["copies"], "parcels": n_many, "footprints": counts["footprints"],
        "one_copy": {k: one[k] for k in ("seconds", "peak_rss_mb")},
        "province": {k: many[k] for k in ("seconds", "peak_rss_mb")},
        "province_2_processes": {k: spread[k] for k in ("seconds", "peak_rss_mb")},
        "parcels_per_s": round(n_many / many["seconds"]),
        "time_per_parcel_vs_one_copy": round(ratio, 3),
        "rss_vs_one_copy": round(many["peak_rss_mb"] / one["peak_rss_mb"], 3),
    }
    print(f"  one copy   {n_one:>10,} parcels  {one['seconds']:8.1f} s  peak RSS "
          f"{one['peak_rss_mb']:7.0f} MB", flush=True)
    print(f"  province   {n_many:>10,} parcels  {many['seconds']:8.1f} s  peak RSS "
          f"{many['peak_rss_mb']:7.0f} MB  ({counts['footprints']:,} footprints, "
          f"{figures['parcels_per_s']:,} parcels/s)", flush=True)
    print(f"  province, --processes 2 {spread['seconds']:8.1f} s  peak RSS "
          f"{spread['peak_rss_mb']:7.0f} MB", flush=True)
    print(f"  time per parcel vs one copy {ratio:.2f}x; peak RSS vs one copy "
          f"{figures['rss_vs_one_copy']:.2f}x (machine: 24 GB)", flush=True)
    totals = np.array([one["summary"]["built_m2"] * counts["copies"],
                       many["summary"]["built_m2"]])
    figures["built_m2_rel_diff_vs_copies"] = float(abs(totals[1] - totals[0]) / totals[0])
    print(f"  built area = {counts['copies']} × one copy's, relative difference "
          f"{figures['built_m2_rel_diff_vs_copies']:.1e}", flush=True)
    return figures
