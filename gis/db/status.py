"""What ``mujun db status`` reports: is the server up, which versions, which DSN.

:func:`database_status` never starts anything: it reads the local cluster's state
(or takes ``MUJUN_DSN``'s server), connects only when there is something to connect
to, and reports the server, PostGIS and schema versions. The DSN is shown without
its password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gis.settings import Settings

#: Keys every status carries (None when unknown).
FACT_KEYS = ("server_version", "postgis_version", "schema_version")


def database_status(settings: Settings) -> dict[str, Any]:
    """The database's state for ``settings``, without starting a server.

    Returns
    -------
    dict
        ``kind`` (``local`` or ``external``), ``running`` (the database answered),
        ``dsn`` (redacted), ``data_dir`` (local cluster), the versions of
        :data:`FACT_KEYS` and ``code_schema_version``, and ``error`` when a server
        was expected to answer and did not.
    """
    from gis.db.connection import connect, server_facts
    from gis.db.dsn import redact_dsn
    from gis.errors import DatabaseError

    if settings.dsn:
        info: dict[str, Any] = {"kind": "external", "dsn": redact_dsn(settings.dsn),
                                "data_dir": None}
        dsn: str | None = settings.dsn
    else:
        from gis.db.cluster import LocalCluster

        cluster = LocalCluster(settings)
        info = cluster.status()
        dsn = cluster.dsn if info.get("running") else None
    info["running"] = False
    if dsn:
        try:
            with connect(dsn) as conn:
                info.update(server_facts(conn))
            info["running"] = True
        except DatabaseError as exc:
            info["error"] = str(exc)
    for key in FACT_KEYS:
        info.setdefault(key, None)
    return info


def describe_status(info: dict[str, Any]) -> str:
    """The status as lines for a terminal.

    >>> describe_status({"running": False})
    '未在运行；用 `mujun db start` 启动'
    >>> print(describe_status({"running": True, "server_version": "16.4", "postgis_version":
    ...     "3.4.2", "schema_version": 9, "code_schema_version": 9, "dsn": "host=x"}))
    运行中：PostgreSQL 16.4，PostGIS 3.4.2，数据库结构版本 9（程序要求 9）
    连接：host=x
    """
    if not info.get("running"):
        error = info.get("error")
        return "未在运行" + (f"：{error}" if error else "；用 `mujun db start` 启动")
    text = (f"运行中：PostgreSQL {info['server_version']}，PostGIS "
            f"{info['postgis_version']}，数据库结构版本 {info['schema_version']}"
            f"（程序要求 {info.get('code_schema_version')}）\n连接：{info.get('dsn')}")
    if info.get("data_dir"):
        text += f"\n数据目录：{info['data_dir']}"
    return text
