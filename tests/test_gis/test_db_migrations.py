"""Numbered migrations against a real PostGIS server: applied once, recorded, verified."""

from __future__ import annotations

import secrets
import shutil
import threading

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gis.db.connection import connect
from gis.db.database import open_database
from gis.db.migrations import (
    SQL_DIR,
    applied_migrations,
    available_migrations,
    check,
    code_version,
    migrate,
    schema_version,
)
from gis.errors import DatabaseError, MigrationError


@pytest.fixture
def scratch_dsn(db_dsn):
    """An empty database (no migrations) on the test server, dropped afterwards."""
    name = f"mujun_scratch_{secrets.token_hex(4)}"
    with connect(db_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    yield make_conninfo(db_dsn, dbname=name)
    with connect(db_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_shipped_migrations_are_numbered_from_one():
    migs = available_migrations()
    assert migs[0].version == 1
    assert len({m.version for m in migs}) == len(migs)
    assert code_version() == migs[-1].version


def test_test_database_is_migrated_and_recorded(db_conn):
    applied = applied_migrations(db_conn)
    assert set(applied) == {m.version for m in available_migrations()}
    assert applied[1][0] == "core"
    assert applied[1][1] == available_migrations()[0].checksum
    assert schema_version(db_conn) == code_version()
    tables = {r[0] for r in db_conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
    assert {"import_batch", "parcel", "footprint", "enterprise", "enterprise_year",
            "land_right", "run", "mujun_setting", "schema_migrations"} <= tables


def test_migrate_is_idempotent(db_conn):
    assert migrate(db_conn) == []
    assert migrate(db_conn) == []
    count = db_conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(available_migrations())


def test_fresh_database_gets_every_migration_then_none(scratch_dsn):
    with connect(scratch_dsn) as conn:
        assert schema_version(conn) == 0
        first = migrate(conn)
        assert first == [m.version for m in available_migrations()]
        assert migrate(conn) == []
        assert schema_version(conn) == code_version()
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname='postgis'").fetchone()
        assert row is not None


def test_new_migration_applies_in_order_and_failed_one_rolls_back(scratch_dsn, tmp_path):
    for m in available_migrations():
        shutil.copy(m.path, tmp_path / m.path.name)
    (tmp_path / "0900_extra.sql").write_text("CREATE TABLE extra_a (id int);\n"
                                             "INSERT INTO extra_a VALUES (1);\n")
    (tmp_path / "0901_broken.sql").write_text("CREATE TABLE extra_b (id int);\n"
                                              "SELECT no_such_function();\n")
    with connect(scratch_dsn) as conn:
        with pytest.raises(MigrationError, match=r"0901_broken\.sql"):
            migrate(conn, tmp_path)
        assert schema_version(conn) == 900  # 0900 committed, 0901 rolled back
        assert conn.execute("SELECT to_regclass('extra_a') IS NOT NULL").fetchone()[0]
        assert not conn.execute("SELECT to_regclass('extra_b') IS NOT NULL").fetchone()[0]
        (tmp_path / "0901_broken.sql").write_text("CREATE TABLE extra_b (id int);\n")
        assert migrate(conn, tmp_path) == [901]
        assert conn.execute("SELECT count(*) FROM extra_a").fetchone()[0] == 1


def test_changed_migration_file_is_refused(db_conn, tmp_path):
    for m in available_migrations():
        shutil.copy(m.path, tmp_path / m.path.name)
    first = sorted(tmp_path.glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after shipping\n")
    with pytest.raises(MigrationError, match="在执行后被修改"):
        check(db_conn, tmp_path)
    with pytest.raises(MigrationError, match="校验和不符"):
        migrate(db_conn, tmp_path)
    db_conn.rollback()
    assert migrate(db_conn) == []  # the shipped files still match


def test_schema_newer_than_code_is_refused(db_conn, tmp_path):
    (tmp_path / "0001_core.sql").write_bytes((SQL_DIR / "0001_core.sql").read_bytes())
    # pretend the code only knows migration 1 while the database has 1..N plus 999
    db_conn.execute("INSERT INTO schema_migrations (version, name, checksum) "
                    "VALUES (999, 'future', 'x')")
    with pytest.raises(MigrationError, match="newer than this mujun"):
        check(db_conn, tmp_path)
    db_conn.rollback()


def test_misnamed_or_duplicate_files_are_refused(tmp_path):
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        available_migrations(tmp_path)
    (tmp_path / "1_bad.sql").unlink()
    (tmp_path / "0002_a.sql").write_text("SELECT 1;")
    (tmp_path / "0002_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="also used"):
        available_migrations(tmp_path)


def test_concurrent_migrations_apply_each_file_once(scratch_dsn):
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with connect(scratch_dsn) as conn:
                results.append(migrate(conn))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    applied = sorted(v for r in results for v in r)
    assert applied == [m.version for m in available_migrations()]
    with connect(scratch_dsn) as conn:
        n = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert n == len(available_migrations())


def test_open_database_migrates_an_external_dsn(pg_settings, scratch_dsn):
    settings = pg_settings.replace(dsn=scratch_dsn)
    conn = open_database(settings)
    try:
        assert schema_version(conn) == code_version()
        assert conn.autocommit is False
    finally:
        conn.close()


def test_unreachable_server_is_a_one_line_database_error(pg_settings):
    from gis.db.cluster import free_port

    dsn = f"host=127.0.0.1 port={free_port()} dbname=x user=u password=hunter2 connect_timeout=3"
    with pytest.raises(DatabaseError) as info:
        open_database(pg_settings.replace(dsn=dsn))
    message = str(info.value)
    assert "\n" not in message
    assert "hunter2" not in message
    assert "cannot connect" in message
    assert isinstance(info.value.__cause__, psycopg.Error)
