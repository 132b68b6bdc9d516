"""`mujun db restore` while `mujun serve` runs (issue 19, finding 19): the restored database
gets the app role's grants back before it is swapped in, and the running server
reconnects by itself: the next request succeeds, no restart."""

from __future__ import annotations

import os
import secrets

import pytest

from tests.cli_runner import mujun_process
from tests.test_review.conftest import login, seed, serving

pytestmark = pytest.mark.postgis


@pytest.fixture
def own_database(pg_settings):
    """A migrated, seeded database of this test only (dropped at the end)."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.migrations import migrate
    from gis.db.roles import mark_leakproof
    from tests.conftest import _server_dsn

    server = _server_dsn(pg_settings)
    name = f"mujun_restore_{os.getpid()}_{secrets.token_hex(3)}"
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                      .format(sql.Identifier(name)))
    dsn = make_conninfo(server, dbname=name)
    try:
        with connect(dsn) as conn:
            migrate(conn)
            mark_leakproof(conn)
            conn.commit()
            seeded = seed(conn)
        yield dsn, seeded
    finally:
        with connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


@pytest.mark.slow
def test_restore_while_serving(own_database, tmp_path):
    from gis.db.connection import connect

    dsn, seeded = own_database
    cid = seeded["东区"][0]
    with serving(dsn) as base:
        official, resp = login(base, "off_east")
        assert resp.status_code == 303
        assert official.get(f"/api/candidates/{cid}").status_code == 200
        dump = tmp_path / "before.dump"
        out = mujun_process("db", "backup", str(dump), dsn=dsn)
        assert out.returncode == 0, out.stderr
        decided = official.post(f"/api/candidates/{cid}/decision",
                                json={"status": "under_review", "version": 1})
        assert decided.status_code == 200, decided.text
        out = mujun_process("db", "restore", str(dump), "--yes", dsn=dsn)
        assert out.returncode == 0, out.stderr
        # the very next request works, on the restored data (the decision is gone)
        detail = official.get(f"/api/candidates/{cid}")
        assert detail.status_code == 200, detail.text
        assert detail.json()["status"] == "new"
        assert official.get("/api/candidates").json()["total"] == len(seeded["东区"])
        assert official.get("/tiles/footprints/16/54723/26746.mvt").status_code == 200
        again, resp = login(base, "off_west")
        assert resp.status_code == 303 and again.get("/api/me").status_code == 200
        # and the scope still holds on the restored database
        assert again.get(f"/api/candidates/{cid}").status_code == 404
    with connect(dsn) as conn:
        assert conn.execute("SELECT bool_and(proleakproof) FROM pg_proc"
                            " WHERE proname = 'geometry_overlaps'").fetchone()[0]
        assert conn.execute("SELECT has_table_privilege('mujun_app', 'app_session', 'INSERT')"
                            ).fetchone()[0] is False
