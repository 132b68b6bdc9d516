"""The review app's comparison page at county size: its data as the app role, against
``score compare`` of the same two stored runs as the owner, in the same run.

Two score runs of 100,000 synthetic firms (the Huangyan and Huai'an presets, as
:mod:`benchmarks.bench_compare`) are stored in a scratch PostGIS database
(``mujun_bench_compare_page``, dropped afterwards). Timed:

* **score compare (baseline)** — :func:`scoring.compare_runs.compare_runs` as the database
  owner, reading ``enterprise_score`` (what ``mujun score compare`` does);
* **the page's data** — :func:`maps.review.compare.comparison_page` as the restricted app
  role ``mujun_app`` with an official's session granted everywhere: the same comparison
  read through the scoped view ``enterprise_score_figures`` (migration 0030), the JSON of
  the page, the changed firms' parcels (none in this database: the cost measured is the
  scores');
* the same for an official granted one town (that town's firms).

Checked: the everywhere official's matrix equals the owner's. ``--size small`` uses 10,000
firms.
"""

from __future__ import annotations

import time

from benchmarks.bench_compare import PRESETS, YEAR, _rows
from benchmarks.bench_scoring import SIZES, county

NAME = "mujun_bench_compare_page"


def _session(admin, app, username: str) -> None:
    from maps.review.auth import new_token, token_hash

    token = new_token()
    admin.execute(
        "INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
        " SELECT %s, user_id, %s, now() + interval '1 hour' FROM app_user WHERE username = %s",
        (token_hash(token), new_token(), username))
    admin.commit()
    app.execute("SELECT set_config('mujun.session', %s, false)", (token,))


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.db.roles import app_dsn
    from gis.db.runs import finish_run, start_run
    from gis.settings import load_settings
    from maps.review import compare as review_compare
    from maps.review.users import add_user, grant
    from maps.styles import style_for
    from scoring.compare_runs import compare_runs
    from scoring.store import save_scores
    from scoring.vocabulary import SHIFTS

    n = SIZES[size]
    frame = county(n)[YEAR]
    rows = [_rows(preset, frame)[0] for preset in PRESETS]
    settings = load_settings()
    server = database_dsn(settings)
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(NAME)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))
    dsn = make_conninfo(server, dbname=NAME)
    try:
        with connect(dsn) as conn:
            migrate(conn)
            ids = []
            for preset, r in zip(PRESETS, rows, strict=True):
                run_id = start_run(conn, "score", {"ruleset": preset, "year": YEAR})
                save_scores(conn, run_id, r)
                finish_run(conn, run_id, "done", {})
                ids.append(run_id)
            town = conn.execute("SELECT town FROM enterprise_score WHERE run_id = %s"
                                " AND town IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC"
                                " LIMIT 1", (ids[1],)).fetchone()
            add_user(conn, "bench_all", "bench-password-1", role="official")
            grant(conn, "bench_all", everywhere=True)
            add_user(conn, "bench_one", "bench-password-2", role="official")
            grant(conn, "bench_one", towns=(town[0],) if town else ())
            conn.commit()
            style_for("class_shift")                  # modules a running server has loaded
            SHIFTS.labels()
            start = time.perf_counter()
            owner = compare_runs(conn, *ids)
            owner_s = time.perf_counter() - start
            app = app_dsn(conn, load_settings({"dsn": dsn}))
            figures = {}
            with connect(app) as app_conn:
                for user in ("bench_one", "bench_all"):
                    _session(conn, app_conn, user)
                    start = time.perf_counter()
                    page = review_compare.comparison_page(app_conn, *ids)
                    figures[user] = (time.perf_counter() - start, page)
                    app_conn.rollback()
        all_s, page = figures["bench_all"]
        one_s, one = figures["bench_one"]
        want = {str(k): {str(c): int(v) for c, v in row.items()}
                for k, row in owner.matrix.to_dict("index").items()}
        assert page["matrix"] == want, "the page's matrix differs from score compare's"
        out = {"enterprises": n, "score_compare_owner_s": round(owner_s, 3),
               "page_data_everywhere_s": round(all_s, 3),
               "page_data_one_town_s": round(one_s, 3),
               "firms_one_town": one["firms"], "changed": page["changed"],
               "ratio_page_to_score_compare": round(all_s / owner_s, 3)}
        print(f"{n:,} firms: score compare (owner) {owner_s:.2f} s | the page's data as the "
              f"app role, everywhere {all_s:.2f} s (ratio {all_s / owner_s:.2f}; matrix "
              f"equal), one town ({one['firms']:,} firms) {one_s:.2f} s", flush=True)
        return out
    finally:
        with connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(NAME)))


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
