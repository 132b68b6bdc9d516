"""`score compare` at county size: two synthetic score tables of 100,000 firms, against
scoring one run of the same county in the same process.

* **score one run** — :func:`scoring.kernel.score_year` and :func:`scoring.records.build_rows`
  (what a stored run computes) for one year under ``zhejiang-huangyan-2022``;
* **score table** — :func:`scoring.export.flat_table` of that run's rows (what ``score
  compare`` builds per side after reading the run; the JSON columns parsed as stored);
* **compare** — the pure kernel :func:`scoring.compare.compare_tables` on the tables of
  the Huangyan and the Huai'an rule sets.

* **score compare end to end** — the two runs stored in a scratch PostGIS database
  (``mujun_bench_compare``, dropped afterwards), then :func:`scoring.compare_runs.compare_runs`:
  reading both runs (item scores taken out of the JSON by the server) and the kernel.

The comparison is checked: its matrix equals a ``pd.crosstab`` of the two class columns.
``--size small`` uses 10,000 firms; city and province 100,000.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from benchmarks.bench_scoring import SIZES, county
from scoring.compare import CLASS_ORDER, compare_tables
from scoring.export import flat_table, with_overrides
from scoring.kernel import score_year
from scoring.records import build_rows
from scoring.ruleset import load_ruleset

YEAR = 2024
PRESETS = ("zhejiang-huangyan-2022", "jiangsu-huaian-2024")


def _rows(preset: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    rs = load_ruleset(preset)
    start = time.perf_counter()
    result = score_year(rs, frame, YEAR)
    rows = build_rows(rs, frame, result, year=YEAR, occupancy_run=0, occupancy_params={},
                      prev=None, prev_run=None)
    return rows, time.perf_counter() - start


def _table(rows: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    parsed = rows.assign(**{c: rows[c].map(lambda v: json.loads(v) if isinstance(v, str)
                                             else v)
                            for c in ("indicators", "items", "rules_fired")})
    start = time.perf_counter()
    table = with_overrides(flat_table(parsed), pd.DataFrame())
    return table, time.perf_counter() - start


def _through_the_store(rows_a: pd.DataFrame, rows_b: pd.DataFrame):
    """Store both runs in a scratch database and time ``compare_runs`` on them."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.db.runs import finish_run, start_run
    from gis.settings import load_settings
    from scoring.compare_runs import compare_runs
    from scoring.store import save_scores

    server = database_dsn(load_settings())
    name = "mujun_bench_compare"
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with connect(make_conninfo(server, dbname=name)) as conn:
            migrate(conn)
            ids = []
            for preset, rows in zip(PRESETS, (rows_a, rows_b), strict=True):
                run_id = start_run(conn, "score", {"ruleset": preset, "year": YEAR})
                save_scores(conn, run_id, rows)
                finish_run(conn, run_id, "done", {})
                ids.append(run_id)
            conn.commit()
            start = time.perf_counter()
            cmp = compare_runs(conn, *ids)
            return time.perf_counter() - start, cmp
    finally:
        with connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n = SIZES[size]
    frame = county(n)[YEAR]
    rows_a, score_s = _rows(PRESETS[0], frame)
    rows_b, _ = _rows(PRESETS[1], frame)
    table_a, table_s = _table(rows_a)
    table_b, _ = _table(rows_b)
    rng = np.random.default_rng(3)
    table_b = table_b.sample(frac=0.98, random_state=4)         # 2 % of firms left B
    table_b["tax_wan"] = rng.lognormal(3.0, 0.9, len(table_b))
    table_a["tax_wan"] = rng.lognormal(3.0, 0.9, len(table_a))
    start = time.perf_counter()
    cmp = compare_tables(table_a, table_b)
    compare_s = time.perf_counter() - start
    ka = table_a.set_index("credit_code")["final_class"]
    kb = table_b.set_index("credit_code")["final_class"]
    codes = ka.index.union(kb.index)
    expect = pd.crosstab(ka.reindex(codes).fillna("none"), kb.reindex(codes).fillna("none"))
    expect = expect.reindex(index=list(CLASS_ORDER), columns=list(CLASS_ORDER), fill_value=0)
    assert (cmp.matrix.loc[list(CLASS_ORDER), list(CLASS_ORDER)].to_numpy()
            == expect.to_numpy()).all(), "matrix differs from crosstab"
    store_s, stored_cmp = _through_the_store(rows_a, rows_b)
    assert stored_cmp.changed_count == compare_tables(table_a, _table(rows_b)[0]).changed_count
    figures = {"enterprises": n, "compare_runs_from_store_s": round(store_s, 3), "score_one_run_s": round(score_s, 3),
               "score_table_s": round(table_s, 3), "compare_s": round(compare_s, 3),
               "changed": cmp.changed_count, "ratio_compare_to_score": round(
                   compare_s / score_s, 3)}
    print(f"{n:,} firms: score one run {score_s:.2f} s (kernel + stored rows) | score table "
          f"per side {table_s:.2f} s | compare kernel {compare_s:.2f} s "
          f"({cmp.changed_count:,} changed; matrix = crosstab) | score compare of two stored "
          f"runs {store_s:.2f} s", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
