"""The command line's ordinary work on the local cluster runs as the non-superuser role
mujun_owner (gis.db.roles.open_as_owner), not as the cluster's superuser."""

from __future__ import annotations

import json
import os
import secrets

import pytest

from tests.cli_runner import run_mujun

pytestmark = pytest.mark.postgis


@pytest.fixture
def local_db(pg_settings):
    """Settings naming a fresh database on the local cluster (no MUJUN_DSN)."""
    from psycopg import sql

    from gis.db.cluster import LocalCluster
    from gis.db.connection import connect

    if pg_settings.dsn:
        pytest.skip("MUJUN_DSN is set: mujun uses that server as given, no owner role")
    name = f"mujun_test_{os.getpid()}_{secrets.token_hex(3)}"
    settings = pg_settings.replace(db_name=name)
    yield settings
    with connect(LocalCluster(pg_settings).dsn_for("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _not_owned(conn):
    return conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S')"
        " AND pg_get_userbyid(c.relowner) <> 'mujun_owner' AND NOT EXISTS (SELECT 1"
        "  FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1").fetchall()


def test_open_database_works_as_the_owner_role(local_db):
    from gis.db.cluster import LocalCluster
    from gis.db.connection import connect
    from gis.db.database import open_database

    with open_database(local_db) as conn:
        user, superuser, bypass, createrole = conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles"
            " WHERE rolname = current_user").fetchone()
        assert (user, superuser, bypass, createrole) == ("mujun_owner", False, False, True)
        # everything mujun made is the owner's (PostGIS's own objects stay the superuser's)
        assert _not_owned(conn) == []
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            " AND tableowner = 'mujun_owner'").fetchone()[0] > 20
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 13
        # bounding-box tests may use their index under row-level security
        assert conn.execute("SELECT proleakproof FROM pg_proc"
                            " WHERE proname = 'geometry_overlaps'").fetchone()[0] is True
        # ordinary work: write and read, the owner is not limited by row-level security
        conn.execute("INSERT INTO parcel (parcel_code, geom, district)"
                     " VALUES ('p1', ST_Multi(ST_MakeEnvelope(0, 0, 10, 10, 4549)), 'x')")
        assert conn.execute("SELECT count(*) FROM parcel").fetchone()[0] == 1
        conn.commit()
        # the superuser powers are gone
        import psycopg

        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pg_read_file('PG_VERSION')")
        conn.rollback()
    # something the superuser makes (a restore, a migration) is handed over on next open
    with connect(LocalCluster(local_db).dsn_for(local_db.db_name)) as su:
        su.execute("CREATE TABLE restored_leftover (x int)")
        su.commit()
    with open_database(local_db) as conn:
        assert _not_owned(conn) == []
        assert conn.info.user == "mujun_owner"


def test_cli_commands_run_as_the_owner(local_db, monkeypatch, capsys):
    import io

    monkeypatch.setenv("MUJUN_DB_NAME", local_db.db_name)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    code, _out, err = run_mujun(["user", "add", "owner_test", "--role", "viewer",
                                 "--password-stdin"], monkeypatch, None, capsys)
    assert code == 0, err
    code, out, err = run_mujun(["user", "list", "--json"], monkeypatch, None, capsys)
    assert code == 0, err
    assert [u["username"] for u in json.loads(out)] == ["owner_test"]
    code, out, err = run_mujun(["db", "status", "--json"], monkeypatch, None, capsys)
    assert code == 0, err
