"""Land-status rules on the sample city vs one vector-engine occupancy run (same run).

* **baseline** — ``run_occupancy(engine="vector", as_of=AS_OF)``: parcels and footprints
  from PostGIS through the kernel to a stored run (best of two);
* **rules, first run** — ``run_candidates`` on that occupancy run with an empty candidate
  table: facts, rules and every candidate created with its ``created`` event;
* **rules, re-run** — the same again: every candidate refreshed (decisions kept), none
  created (best of two).

Also printed: precision and recall per kind against the sample's planted cases. The ratio
printed is rules / occupancy (target: comparable, ≤ 1). The sample and its database
(``mujun_bench_candidates_<size>``) are made once and reused.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import pandas as pd

SEED = 1
TRUTH = {"idle_not_started": {"idle"}, "unfinished": {"unfinished"},
         "built_unused": {"built_unused", "stopped_firm"}}


def _timed(label: str, func, *args, **kwargs) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    out = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:9.2f} s", flush=True)
    return out, seconds


def _database(settings, size: str, city):
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from sample.load import load_sample

    server = database_dsn(settings)
    name = f"mujun_bench_candidates_{size}"
    with connect(server, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn = connect(make_conninfo(server, dbname=name))
    migrate(conn)
    result = load_sample(conn, city)
    if result["loaded"]:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.autocommit = False
    return conn


def _planted(conn, city) -> dict[str, dict[str, float]]:
    planted = pd.read_csv(city.paths["planted"], dtype=str).fillna("")
    found = pd.DataFrame(conn.execute("SELECT parcel_code, kind FROM candidate"
                                      " WHERE status <> 'closed'").fetchall(),
                         columns=["parcel_code", "kind"])
    conn.rollback()
    out = {}
    for kind, kinds in TRUTH.items():
        truth = set(planted.loc[planted["kind"].isin(kinds), "parcel_code"])
        got = set(found.loc[found["kind"] == kind, "parcel_code"])
        hit = len(truth & got)
        out[kind] = {"planted": len(truth), "found": len(got),
                     "precision": hit / len(got) if got else 1.0,
                     "recall": hit / len(truth) if truth else 1.0}
    healthy = set(planted.loc[planted["kind"] == "recently_supplied", "parcel_code"])
    idle = set(found.loc[found["kind"].str.startswith("idle"), "parcel_code"])
    out["idle_claims_on_recently_supplied"] = len(healthy & idle)
    out["inefficient_found"] = int((found["kind"] == "inefficient").sum())
    return out


def main(size: str = "city") -> dict:
    """Run the contenders once on the ``size`` sample; print figures and the ratio."""
    from gis.settings import load_settings
    from parcels.occupancy.run import run_occupancy
    from sample.config import AS_OF
    from sample.generate import SampleCity, generate_city, is_complete
    from scoring.land_status.run import run_candidates

    settings = load_settings()
    folder = settings.home_path / "bench" / f"sample-{size}-{SEED}"
    if is_complete(folder):
        city = SampleCity.load(folder)
    else:
        print(f"generating the {size} sample city in {folder} (once)", flush=True)
        city = generate_city(size, SEED, folder, imagery=False, overwrite=True)
    conn = _database(settings, size, city)
    n_parcels = conn.execute("SELECT count(*) FROM parcel").fetchone()[0]
    n_fp = conn.execute("SELECT count(*) FROM footprint").fetchone()[0]
    conn.rollback()
    print(f"sample {size}: {n_parcels:,} parcels, {n_fp:,} footprints, as of {AS_OF}",
          flush=True)

    occ_times = []
    occ = None
    for _ in range(2):
        occ, t = _timed("occupancy, vector engine (baseline)", run_occupancy, conn, settings,
                        engine="vector", as_of=AS_OF)
        occ_times.append(t)
    conn.execute("TRUNCATE candidate, review_event, survey_change CASCADE")
    conn.commit()
    first, t_first = _timed("rules, first run (all candidates created)", run_candidates,
                            conn, settings, as_of=AS_OF, occupancy_run=occ.run_id)
    again = []
    for _ in range(2):
        _, t = _timed("rules, re-run (refreshed, decisions kept)", run_candidates, conn,
                      settings, as_of=AS_OF, occupancy_run=occ.run_id)
        again.append(t)
    baseline = min(occ_times)
    figures = {
        "size": size, "parcels": n_parcels, "footprints": n_fp,
        "occupancy_vector_s": round(baseline, 3),
        "rules_first_s": round(t_first, 3), "rules_rerun_s": round(min(again), 3),
        "candidates": first.summary["candidates"], "by_kind": first.summary["by_kind"],
        "ratio_first_vs_occupancy": round(t_first / baseline, 3),
        "ratio_rerun_vs_occupancy": round(min(again) / baseline, 3),
        "planted": _planted(conn, city),
    }
    print(f"  candidates: {figures['candidates']:,} "
          f"({', '.join(f'{k} {v}' for k, v in figures['by_kind'].items() if v)})")
    for kind, f in figures["planted"].items():
        if isinstance(f, dict):
            print(f"  planted {kind:<17} {f['planted']:>5} found {f['found']:>5}  "
                  f"precision {f['precision']:.3f}  recall {f['recall']:.3f}")
    print(f"  idle claims on recently supplied parcels: "
          f"{figures['planted']['idle_claims_on_recently_supplied']}")
    print(f"  ratio rules / vector occupancy: first run {figures['ratio_first_vs_occupancy']:.2f}"
          f", re-run {figures['ratio_rerun_vs_occupancy']:.2f}", flush=True)
    conn.close()
    return figures
