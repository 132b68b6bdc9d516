"""The enterprise file at county size: the figure-source trigger on every write of
``enterprise_year`` (migration 0029) and one firm's file among 100,000 scored firms.

* **COPY with sources** — 100,000 annual rows (eight figures each) COPYed into
  ``enterprise_year`` (the first-load path of ``import enterprises``) with the trigger
  that records each figure's batch; baseline: the same COPY with the trigger disabled.
* **delivery with sources** — a power company's delivery changing every row's
  electricity through :func:`gis.importing.store.upsert_frame` (the path of a second
  import for the same year), with and without the trigger.
* **one enterprise file** — :func:`maps.enterprise_file.enterprise_file` of one firm with
  every panel, its per-mu averages computed over the run's 100,000 firms; baseline: reading
  that run's scored rows (``SELECT * FROM enterprise_score WHERE run_id = …``).

In a scratch PostGIS database (``mujun_bench_enterprise_file``, dropped afterwards).
``--size small`` uses 10,000 firms; city and province 100,000.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

SIZES = {"small": 10_000, "city": 100_000, "province": 100_000}
FIELDS = ("tax_wan", "revenue_wan", "value_added_wan", "energy_tce", "electricity_kwh",
          "rd_wan", "employees", "emissions_t")


def _firms(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    codes = [f"91320509BENCH{i:05d}" for i in range(n)]
    ent = pd.DataFrame({"credit_code": codes, "name": [f"企业{i}" for i in range(n)],
                        "town": [f"镇{i % 12}" for i in range(n)]})
    year = pd.DataFrame({"credit_code": codes, "year": 2024})
    for f in FIELDS:
        year[f] = rng.gamma(2.0, 50.0, n).round(2)
    year["employees"] = year["employees"].round().astype("int64")
    return ent, year


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(size: str = "city") -> dict:
    """Time each step and its baseline; print seconds and ratios."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.copy import copy_frame
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.importing.store import upsert_frame
    from gis.settings import load_settings
    from maps.enterprise_file import enterprise_file

    n = SIZES[size]
    ent, year = _firms(n)
    server = database_dsn(load_settings())
    name = "mujun_bench_enterprise_file"
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    figures: dict = {"firms": n}
    try:
        with connect(make_conninfo(server, dbname=name)) as conn:
            migrate(conn)
            copy_frame(conn, "enterprise", ent)
            batch = conn.execute("INSERT INTO import_batch (kind, source) VALUES"
                                 " ('enterprises', 'bench.xlsx') RETURNING batch_id").fetchone()[0]
            power = conn.execute("INSERT INTO import_batch (kind, source) VALUES"
                                 " ('enterprises', 'power.xlsx') RETURNING batch_id").fetchone()[0]
            conn.commit()
            rows = year.assign(batch_id=batch)
            delivery = rows[["credit_code", "year"]].assign(
                electricity_kwh=rows["electricity_kwh"] + 1.0, batch_id=power)
            copy_frame(conn, "enterprise_year", rows)              # warm the server up
            conn.rollback()
            for label, enabled in (("baseline", False), ("mujun", True)):
                action = "ENABLE" if enabled else "DISABLE"
                conn.execute(f"ALTER TABLE enterprise_year {action} TRIGGER enterprise_year_sources")
                conn.execute("TRUNCATE enterprise_year")
                conn.commit()
                figures[f"copy_{label}_s"] = round(_timed(
                    lambda: (copy_frame(conn, "enterprise_year", rows), conn.commit())), 2)
                figures[f"delivery_{label}_s"] = round(_timed(lambda: (upsert_frame(
                    conn, "enterprise_year", delivery, ["credit_code", "year"],
                    ["credit_code", "year", "electricity_kwh", "batch_id"],
                    not_compared=("batch_id",)), conn.commit())), 2)
            got = conn.execute("SELECT sources FROM enterprise_year LIMIT 1").fetchone()[0]
            assert got["electricity_kwh"] == power and got["tax_wan"] == batch, got
            for step in ("copy", "delivery"):
                figures[f"{step}_ratio"] = round(figures[f"{step}_mujun_s"]
                                                 / figures[f"{step}_baseline_s"], 2)
            run_id = conn.execute("INSERT INTO run (kind, code_version, status, params,"
                                  " finished_at) VALUES ('score', 'bench', 'done',"
                                  " '{\"year\": 2024, \"ruleset\": \"bench\"}', now())"
                                  " RETURNING run_id").fetchone()[0]
            scores = ent.assign(run_id=run_id, year=2024, ruleset="bench", population="large",
                                industry_division=[f"{13 + i % 30}" for i in range(n)],
                                land_m2=np.linspace(2000, 60000, n), total=50.0,
                                **{"class": "B"}, rank_county=np.arange(1, n + 1))
            copy_frame(conn, "enterprise_score", scores)
            conn.commit()
            code = ent["credit_code"].iloc[n // 2]
            figures["file_baseline_s"] = round(_timed(lambda: conn.execute(
                "SELECT * FROM enterprise_score WHERE run_id = %s", (run_id,)).fetchall()), 2)
            rec = {}
            figures["file_mujun_s"] = round(_timed(
                lambda: rec.update(enterprise_file(conn, code))), 2)
            assert rec["per_mu"][0]["tax_per_mu"]["industry_average"] is not None
            figures["file_ratio"] = round(figures["file_mujun_s"] / figures["file_baseline_s"], 2)
    finally:
        with connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
    for step in ("copy", "delivery", "file"):
        print(f"{step:9s} mujun {figures[f'{step}_mujun_s']:6.2f} s  baseline "
              f"{figures[f'{step}_baseline_s']:6.2f} s  ratio {figures[f'{step}_ratio']:5.2f}",
              flush=True)
    return figures
