"""A county's files through the user's own commands, start to finish: seconds per stage.

The sample city's raw ``dirty/`` copies (the files as a land bureau hands them over) go
through the installed ``mujun`` command, one fresh process per stage, into a fresh
database, exactly as a new user types them:

1. ``import parcels dirty/parcels.shp --crs 4528`` (GBK, no ``.cpg``, zone-prefixed
   CGCS2000; ``--accept-partial``: the planted defects are listed and rejected);
2. ``import enterprises dirty/enterprises.xlsx --year 2024`` (two header rows, 万元) and
   ``dirty/enterprises_2023.csv --year 2023`` (GBK, 元);
3. ``import land-rights dirty/land_rights.csv``;
4. ``import footprints buildings.gpkg --date <as of>`` (the sample's outlines);
5. ``occupancy``, ``score``, ``candidates --as-of``;
6. one web map (``map industry -o .html``), one figure (``map classes -o .png``),
   ``export parcels -o .gpkg``, ``candidates report -o .xlsx``.

Printed per stage and in total: wall seconds, CPU seconds (user + system of the command's
process and its children: what the stage costs when the machine is busy with other work;
the PostgreSQL server's own CPU is not included) and peak memory (the command's process
and its children, sampled; the server's memory is not included). Goal: the
whole chain ≤ 5 minutes at city size (≈ 100k parcels, 116k enterprises, 830k
footprints) on 2 cores. ``--size small`` runs the same chain on the small sample (a few
hundred parcels) as a quick check.

The sample is generated once and kept under ``<home>/bench/sample-<size>-1`` (shared
with the candidates benchmark); the database ``mujun_bench_county_<size>`` is dropped and
made anew at every run, so every import really imports.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

SEED = 1
#: The rule set scored with (the demo's: fixed benchmarks, no previous-year run needed).
RULESET = "zhejiang-huangyan-2022"


def _sample(settings, size: str):
    from sample.generate import SampleCity, generate_city, is_complete

    folder = settings.home_path / "bench" / f"sample-{size}-{SEED}"
    if is_complete(folder):
        return SampleCity.load(folder)
    print(f"generating the {size} sample city in {folder} (once)", flush=True)
    start = time.perf_counter()
    city = generate_city(size, SEED, folder, imagery=False, overwrite=True)
    print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)
    return city


def _fresh_database(settings, size: str) -> str:
    """DSN of an empty, migrated database ``mujun_bench_county_<size>`` (dropped first)."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate

    server = database_dsn(settings)
    name = f"mujun_bench_county_{size}"
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                      .format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                      .format(sql.Identifier(name)))
    dsn = make_conninfo(server, dbname=name)
    with connect(dsn) as conn:
        migrate(conn)
        conn.commit()
    return dsn


def stages(city, work: Path) -> list[tuple[str, list[str]]]:
    """The chain as ``(stage, mujun arguments)``, in order."""
    from sample.config import AS_OF

    dirty = Path(city.paths["dirty"])
    manifest = json.loads((dirty / "MANIFEST.json").read_text(encoding="utf-8"))
    year = {name: manifest["files"][name]["year"]
            for name in ("enterprises.xlsx", "enterprises_2023.csv")}

    def partial(name: str) -> list[str]:
        return ["--accept-partial", "--rejects", str(work / f"{name}.rejects.csv")]

    out = work / "out"
    return [
        ("import parcels (SHP, GBK, --crs 4528)",
         ["import", "parcels", str(dirty / "parcels.shp"), "--crs", "4528",
          *partial("parcels")]),
        (f"import enterprises (XLSX, {year['enterprises.xlsx']})",
         ["import", "enterprises", str(dirty / "enterprises.xlsx"),
          "--year", str(year["enterprises.xlsx"]), *partial("enterprises")]),
        (f"import enterprises (CSV, {year['enterprises_2023.csv']})",
         ["import", "enterprises", str(dirty / "enterprises_2023.csv"),
          "--year", str(year["enterprises_2023.csv"]), *partial("enterprises_2023")]),
        ("import land-rights (CSV)",
         ["import", "land-rights", str(dirty / "land_rights.csv"), *partial("land_rights")]),
        ("import footprints (GPKG)",
         ["import", "footprints", str(city.paths["buildings"]), "--layer", "buildings",
          "--date", AS_OF.isoformat(), *partial("footprints")]),
        ("occupancy", ["occupancy"]),
        ("score", ["score", "--ruleset", RULESET, "--year", str(year["enterprises.xlsx"])]),
        ("candidates", ["candidates", "--as-of", AS_OF.isoformat()]),
        ("web map (industry, .html)", ["map", "industry", "-o", str(out / "industry.html")]),
        ("figure (classes, .png)", ["map", "classes", "-o", str(out / "classes.png")]),
        ("export parcels (.gpkg)", ["export", "parcels", "-o", str(out / "parcels.gpkg")]),
        ("candidates report (.xlsx)",
         ["candidates", "report", "-o", str(out / "candidates.xlsx")]),
    ]


def _env(dsn: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUJUN_")}
    env.update(MUJUN_DSN=dsn, MUJUN_HOME=str(home), MUJUN_PROGRESS="false")
    return env


def main(size: str = "city") -> dict[str, Any]:
    """Run the chain once on the ``size`` sample; print the table and return the figures."""
    from benchmarks._process import run_measured
    from gis.settings import load_settings

    settings = load_settings()
    city = _sample(settings, size)
    work = settings.home_path / "bench" / f"county-{size}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "out").mkdir(parents=True)
    dsn = _fresh_database(settings, size)
    mujun = str(Path(sys.executable).with_name("mujun"))
    env = _env(dsn, work / "home")
    print(f"sample {size}-{SEED}: {city.counts.get('parcels', '?'):,} parcels, "
          f"{city.counts.get('buildings', '?'):,} footprints; cores {os.cpu_count()}",
          flush=True)
    start_up = run_measured([mujun, "--version"], env=env).seconds
    print(f"  (start-up of one mujun process, `mujun --version`: {start_up:.1f} s; every "
          "stage pays it)", flush=True)
    print(f"  {'stage':<40} {'wall':>10} {'CPU':>10} {'peak RSS':>10}", flush=True)
    rows: list[dict[str, Any]] = []
    for name, argv in stages(city, work):
        measured = run_measured([mujun, *argv], env=env)
        rows.append({"stage": name, "seconds": round(measured.seconds, 2),
                     "cpu_s": round(measured.cpu_seconds, 2),
                     "peak_rss_mb": round(measured.peak_rss_mb), "exit": measured.returncode})
        print(f"  {name:<40} {measured.seconds:8.1f} s  {measured.cpu_seconds:8.1f} s "
              f"{measured.peak_rss_mb:7.0f} MB"
              + (f"  FAILED (exit {measured.returncode})" if measured.returncode else ""),
              flush=True)
        if measured.returncode:
            print("    " + measured.stderr.strip().replace("\n", "\n    "), flush=True)
            break
    total = sum(r["seconds"] for r in rows)
    cpu = sum(r["cpu_s"] for r in rows)
    peak = max(r["peak_rss_mb"] for r in rows)
    complete = len(rows) == len(stages(city, work)) and not rows[-1]["exit"]
    print(f"  {'total' + ('' if complete else ' (chain stopped)'):<40} {total:8.1f} s  "
          f"{cpu:8.1f} s {peak:7.0f} MB   goal ≤ 300 s at city size", flush=True)
    return {"size": size, "counts": city.counts, "stages": rows, "total_s": round(total, 2),
            "cpu_s": round(cpu, 2),
            "peak_rss_mb": peak, "complete": complete, "cores": os.cpu_count(),
            "start_up_s": round(start_up, 2), "load_average": os.getloadavg()}
