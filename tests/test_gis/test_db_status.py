"""gis.db.status: what `mujun db status` reports, assembled without starting anything."""

from __future__ import annotations

from gis.db.status import FACT_KEYS, database_status, describe_status
from gis.settings import load_settings


def test_a_cluster_never_started_is_reported_not_running_and_left_alone(tmp_path):
    home = tmp_path / "home"
    info = database_status(load_settings({"home": str(home)}, environ={}))
    assert info["running"] is False and "error" not in info
    assert all(info[k] is None for k in FACT_KEYS)
    assert not (home / "pg").exists()                     # nothing was initialised or started
    assert describe_status(info) == "未在运行；用 `mujun db start` 启动"


def test_an_unreachable_server_is_an_error_without_its_password(tmp_path):
    dsn = "host=127.0.0.1 port=1 dbname=x user=u password=hunter2 connect_timeout=1"
    info = database_status(load_settings({"home": str(tmp_path), "dsn": dsn}, environ={}))
    assert info["kind"] == "external" and info["running"] is False
    assert "hunter2" not in str(info) and "password=***" in info["dsn"]
    assert describe_status(info).startswith("未在运行：")


def test_the_test_database_answers_with_its_versions(db_dsn, tmp_path):
    from gis.db.migrations import code_version

    info = database_status(load_settings({"home": str(tmp_path), "dsn": db_dsn}, environ={}))
    assert info["running"] is True and info["schema_version"] == code_version()
    assert info["postgis_version"] and info["server_version"]
    assert f"数据库结构版本 {info['schema_version']}" in describe_status(info)
