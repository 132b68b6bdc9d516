"""`mujun db ...` and `mujun settings` through the real entry point (subprocesses)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from gis.db.cluster import LocalCluster, find_pg_bindir
from gis.db.connection import connect, redact_dsn
from gis.errors import ServerError
from gis.settings import load_settings
from tests.cli_runner import mujun_process


def mujun(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return mujun_process(*args, env=env, timeout=timeout)


@pytest.fixture
def throwaway_home():
    """A MUJUN_HOME the unprivileged server user can enter (pytest's tmp is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="mujun-home-"))
    path.chmod(0o755)
    yield path
    cluster = LocalCluster(load_settings({"home": str(path)}, environ={}))
    try:
        cluster.stop()
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_status_json_of_the_test_database(db_dsn):
    out = mujun("db", "status", "--json", env={"MUJUN_DSN": db_dsn})
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["running"] is True
    assert info["kind"] == "external"
    assert info["server_version"].startswith(("15", "16", "17"))
    assert info["postgis_version"].startswith("3.")
    assert info["schema_version"] == info["code_schema_version"] >= 1
    assert "password" not in info["dsn"] or "password=***" in info["dsn"]


def test_status_json_of_the_local_cluster(pg_settings):
    env = {"MUJUN_HOME": str(pg_settings.home_path)}
    out = mujun("db", "status", "--json", env=env)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["kind"] == "local" and info["running"] is True
    assert info["data_dir"] == str(pg_settings.home_path.resolve() / "pg")
    assert "127.0.0.1" in info["dsn"]


def test_start_status_stop_of_a_throwaway_cluster(throwaway_home):
    env = {"MUJUN_HOME": str(throwaway_home)}
    out = mujun("db", "start", "--json", env=env)
    assert out.returncode == 0, out.stderr
    started = json.loads(out.stdout)
    assert started["running"] is True and started["was_running"] is False
    assert started["schema_version"] >= 1
    state = json.loads((throwaway_home / "cluster.json").read_text())
    assert state["port"] == started["port"]
    assert oct((throwaway_home / "pgpass").stat().st_mode & 0o777) == "0o600"
    # listens on 127.0.0.1 only, and on a unix socket inside the home
    sockets = list(Path(started["socket_dir"]).glob(".s.PGSQL.*"))
    assert any(p.name == f".s.PGSQL.{started['port']}" for p in sockets)
    conf = (throwaway_home / "pg" / "mujun.conf").read_text()
    assert "listen_addresses = '127.0.0.1'" in conf and "fsync = on" in conf

    again = mujun("db", "start", env=env)  # idempotent
    assert again.returncode == 0 and "已在运行" in again.stdout

    status = mujun("db", "status", "--json", env=env)
    info = json.loads(status.stdout)
    assert info["running"] and info["postgis_version"].startswith("3.")
    assert "password" not in status.stdout.replace("passfile", "")

    stopped = mujun("db", "stop", env=env)
    assert stopped.returncode == 0 and "已停止" in stopped.stdout
    after = mujun("db", "status", "--json", env=env)
    assert after.returncode == 5
    assert json.loads(after.stdout)["running"] is False
    assert "未在运行" in mujun("db", "stop", env=env).stdout


def test_port_in_use_is_a_one_line_error_naming_the_port(throwaway_home):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        out = mujun("db", "start", env={"MUJUN_HOME": str(throwaway_home),
                                        "MUJUN_DB_PORT": str(port)})
    assert out.returncode == 5
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"端口 {port} 已被占用" in lines[0] and "MUJUN_DB_PORT" in lines[0]
    assert not (throwaway_home / "pg").exists()  # failed before initdb


def test_stale_postmaster_pid_is_removed(throwaway_home):
    cluster = LocalCluster(load_settings({"home": str(throwaway_home)}, environ={}))
    cluster.data_dir.mkdir()
    (cluster.data_dir / "PG_VERSION").write_text("15\n")
    child = subprocess.Popen(["true"])
    child.wait()
    pid = child.pid  # a process that has exited: its pid file is stale
    pidfile = cluster.data_dir / "postmaster.pid"
    pidfile.write_text(f"{pid}\n{cluster.data_dir}\n")
    assert cluster.is_running() is False
    cluster._clear_stale()
    assert not pidfile.exists()


def test_external_dsn_means_no_local_cluster(db_dsn):
    env = {"MUJUN_DSN": db_dsn}
    for cmd in ("start", "stop"):
        out = mujun("db", cmd, env=env)
        assert out.returncode == 0, out.stderr
        assert "已设置 MUJUN_DSN" in out.stdout
    with pytest.raises(ServerError, match="MUJUN_DSN"):
        LocalCluster(load_settings(environ={"MUJUN_DSN": db_dsn}))


def test_missing_server_binaries_name_the_debian_packages(monkeypatch, tmp_path):
    import gis.db.cluster as cluster_mod

    monkeypatch.setattr(cluster_mod, "PG_LIB_ROOT", tmp_path / "nothing")
    with pytest.raises(ServerError) as info:
        find_pg_bindir()
    assert "postgresql-15 postgresql-15-postgis-3" in str(info.value)
    assert "MUJUN_DSN" in str(info.value)


def test_migrate_command_reports_up_to_date(db_dsn):
    out = mujun("db", "migrate", "--json", env={"MUJUN_DSN": db_dsn})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["applied"] == []


def _codes(dsn: str) -> list[str]:
    with connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT parcel_code FROM parcel ORDER BY 1")]


@pytest.mark.slow
def test_backup_and_restore_round_trip(db_dsn, db_conn, tmp_path):
    db_conn.execute("INSERT INTO parcel (parcel_code, geom) VALUES "
                    "('保留-1', ST_Multi(ST_MakeEnvelope(0, 0, 10, 10, 4549)))")
    db_conn.commit()
    env = {"MUJUN_DSN": db_dsn}
    dump = tmp_path / "backup.dump"
    out = mujun("db", "backup", str(dump), env=env)
    assert out.returncode == 0, out.stderr
    assert dump.read_bytes()[:5] == b"PGDMP"
    refused = mujun("db", "backup", str(dump), env=env)
    assert refused.returncode == 4 and "--overwrite" in refused.stderr
    assert mujun("db", "backup", str(dump), "--overwrite", env=env).returncode == 0

    db_conn.execute("DELETE FROM parcel")
    db_conn.execute("INSERT INTO parcel (parcel_code, geom) VALUES "
                    "('later', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4549)))")
    db_conn.commit()
    db_conn.close()

    # a broken backup fails and leaves the current database untouched
    broken = tmp_path / "broken.dump"
    broken.write_bytes(dump.read_bytes()[: len(dump.read_bytes()) // 2])
    failed = mujun("db", "restore", str(broken), "--yes", env=env)
    assert failed.returncode == 5 and len(failed.stderr.strip().splitlines()) == 1
    assert _codes(db_dsn) == ["later"]

    restored = mujun("db", "restore", str(dump), "--yes", env=env)
    assert restored.returncode == 0, restored.stderr
    assert _codes(db_dsn) == ["保留-1"]
    with connect(db_dsn) as conn:
        area = conn.execute("SELECT area_m2 FROM parcel").fetchone()[0]
    assert area == pytest.approx(100.0)


def test_backup_is_readable_by_its_owner_only(db_dsn, db_conn, tmp_path):
    """The dump holds password hashes and firms' figures: mode 600 whatever the umask,
    also when an existing backup is replaced."""
    import os
    import stat

    dump = tmp_path / "backup.dump"
    old = os.umask(0o022)
    try:
        out = mujun("db", "backup", str(dump), env={"MUJUN_DSN": db_dsn})
        assert out.returncode == 0, out.stderr
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600
        dump.chmod(0o644)
        out = mujun("db", "backup", str(dump), "--overwrite", env={"MUJUN_DSN": db_dsn})
        assert out.returncode == 0, out.stderr
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.dump"]   # no temporaries


def test_settings_json_lists_everything_and_hides_the_password():
    dsn = "host=db.example port=5432 dbname=mujun user=u password=s3cret"
    out = mujun("settings", "--json", env={"MUJUN_DSN": dsn, "MUJUN_DB_NAME": "x"})
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert "s3cret" not in out.stdout
    assert rows["dsn"]["value"] == redact_dsn(dsn) and rows["dsn"]["origin"] == "$MUJUN_DSN"
    assert rows["db_name"]["value"] == "x" and rows["db_port"]["origin"] == "default"
    assert all(r["help"] for r in rows.values())
    text = mujun("settings", env={"MUJUN_DSN": dsn})
    assert text.returncode == 0 and "s3cret" not in text.stdout and "password=***" in text.stdout


@pytest.mark.parametrize(
    ("dsn", "secret"),
    [("host=h password=abc user=u", "abc"), ("postgresql://u:p%40ss@h:5/db", "p@ss"),
     ("postgresql://u:zz@h/db?sslmode=require", "zz"), ("host=h password='a b' user=u", "a b")],
)
def test_redact_dsn_removes_passwords(dsn, secret):
    red = redact_dsn(dsn)
    assert secret not in red and "password=***" in red


def test_every_db_command_explains_itself(monkeypatch, capsys):
    """`mujun db --help` lists every command; each command's help says what it does and
    documents every option (the group is read from the code, not from a copy)."""
    import click

    from gis.cli.db import db
    from tests.cli_runner import run_mujun

    code, listing, _ = run_mujun(["db", "--help"], monkeypatch, None, capsys)
    assert code == 0
    assert {"start", "stop", "status", "migrate", "backup", "restore", "reset"} <= set(db.commands)
    for name, command in db.commands.items():
        summary = command.get_short_help_str(limit=200).rstrip(".")
        assert summary and summary.split()[0] in listing, name
        code, out, err = run_mujun(["db", name, "--help"], monkeypatch, None, capsys)
        assert code == 0, err
        assert out.startswith(f"Usage: mujun db {name}")
        assert " ".join(command.help.split()[:6]) in " ".join(out.split()), name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"db {name} {param.opts[0]} has no help"
                assert param.opts[-1] in out


def test_long_home_puts_the_socket_in_a_short_directory(tmp_path):
    long_home = tmp_path / ("h" * 60) / ("o" * 60)
    cluster = LocalCluster(load_settings({"home": str(long_home)}, environ={}))
    assert len(str(cluster.home / "run" / ".s.PGSQL.65535")) > 107
    sock_dir = cluster.socket_dir
    assert len(str(sock_dir / ".s.PGSQL.65535.lock").encode()) <= 107
    assert sock_dir != cluster.home / "run"
    # stable for the same home, different for another
    assert sock_dir == LocalCluster(load_settings({"home": str(long_home)}, environ={})).socket_dir
    other = LocalCluster(load_settings({"home": str(long_home) + "x"}, environ={}))
    assert other.socket_dir != sock_dir


def test_open_database_creates_a_missing_database_on_the_local_cluster(pg_settings):
    import secrets

    from psycopg import sql

    from gis.db.database import open_database
    from gis.db.migrations import code_version, schema_version

    if pg_settings.dsn:  # an external server: nothing local to create
        return
    name = f"mujun_newdb_{secrets.token_hex(3)}"
    conn = open_database(pg_settings.replace(db_name=name))
    try:
        assert conn.info.dbname == name
        assert schema_version(conn) == code_version()
    finally:
        conn.close()
        with connect(LocalCluster(pg_settings).dsn_for("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_reset_recreates_an_empty_database_only_when_confirmed(db_dsn):
    import secrets

    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.migrations import code_version, migrate, schema_version

    name = f"mujun_scratch_{secrets.token_hex(4)}"
    with connect(db_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    dsn = make_conninfo(db_dsn, dbname=name)
    try:
        with connect(dsn) as conn:
            migrate(conn)
            conn.execute("INSERT INTO mujun_setting VALUES ('working_srid', '4549')")
            conn.commit()
        refused = mujun("db", "reset", env={"MUJUN_DSN": dsn})  # stdin is not a terminal
        assert refused.returncode != 0
        with connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM mujun_setting").fetchone()[0] == 1
        out = mujun("db", "reset", "--yes", env={"MUJUN_DSN": dsn})
        assert out.returncode == 0, out.stderr
        with connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM mujun_setting").fetchone()[0] == 0
            assert schema_version(conn) == code_version()
    finally:
        with connect(db_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))
