"""``mujun db``: the project's PostGIS server and schema."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


def _external_note(settings) -> str:
    from gis.db.dsn import redact_dsn

    return (f"已设置 MUJUN_DSN：使用 {redact_dsn(settings.dsn)} 上的数据库服务器，"
            "不运行本地集群")


@click.group("db")
def db() -> None:
    """The PostGIS database: cluster, migrations (数据库管理).

    Without MUJUN_DSN, mujun runs its own PostgreSQL cluster in
    <MUJUN_HOME>/pg (unix socket + 127.0.0.1 only). With MUJUN_DSN set, that
    server is used and `start`/`stop` do nothing.
    """


@db.command("start")
@json_option
@click.pass_obj
def start(app, as_json: bool) -> None:
    """Start the local PostGIS cluster, apply migrations (启动).

    Idempotent: a running cluster is left alone. The port is MUJUN_DB_PORT, or
    a free one picked on first start and remembered in <MUJUN_HOME>/cluster.json.
    """
    from gis.db.cluster import LocalCluster
    from gis.db.connection import server_facts

    settings = app.settings
    if settings.dsn:
        emit({"kind": "external", "started": False}, as_json, _external_note(settings))
        return
    cluster = LocalCluster(settings)
    was_running = cluster.is_running()
    info = cluster.start()
    info.update(server_facts(app.connect(migrate=True)))
    info["was_running"] = was_running
    verb = "已在运行" if was_running else "已启动"
    emit(info, as_json,
         f"本地 PostGIS {verb}：127.0.0.1:{info['port']}（数据目录 {info['data_dir']}）；"
         f"数据库结构版本 {info['schema_version']}")


@db.command("stop")
@click.pass_obj
def stop(app) -> None:
    """Stop the local PostGIS cluster (停止)."""
    from gis.db.cluster import LocalCluster

    settings = app.settings
    if settings.dsn:
        click.echo(_external_note(settings) + "；无需停止")
        return
    was_running = LocalCluster(settings).stop()
    click.echo("本地 PostGIS 已停止" if was_running else "本地 PostGIS 未在运行")


@db.command("status")
@json_option
@click.pass_obj
def status(app, as_json: bool) -> None:
    """Whether the server runs, its versions and DSN (状态).

    Never starts anything. The DSN is shown without its password. Exit code 0
    when the database answers, 5 when it does not.
    """
    from gis.db.status import database_status, describe_status
    from gis.errors import DatabaseError

    info = database_status(app.settings)
    emit(info, as_json, describe_status(info))
    if not info["running"]:
        raise SystemExit(DatabaseError.exit_code)


@db.command("migrate")
@json_option
@click.pass_obj
def migrate_cmd(app, as_json: bool) -> None:
    """Apply pending schema migrations (迁移; also on connect).

    Refuses when the database schema is newer than this mujun or when an
    applied migration file was edited.
    """
    from gis.db.migrations import migrate, schema_version

    conn = app.connect(migrate=False)
    applied = migrate(conn)
    version = schema_version(conn)
    conn.rollback()
    text = (f"已执行迁移 {'、'.join(f'{v:04d}' for v in applied)}；"
            if applied else "数据库结构已是最新；") + f"结构版本 {version}"
    emit({"applied": applied, "schema_version": version}, as_json, text)


def _dsn_and_version(app) -> tuple[str, str | None]:
    if app.settings.dsn:
        return app.settings.dsn, None
    from gis.db.cluster import LocalCluster

    app.connect(migrate=True)  # starts the cluster when needed
    cluster = LocalCluster(app.settings)
    return cluster.dsn, cluster.version


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@overwrite_option
@click.pass_obj
def backup(app, file: Path, overwrite: bool) -> None:
    """Back up the whole database to FILE with pg_dump (备份).

    The file appears only when the dump succeeded; an existing FILE is kept
    unless --overwrite is given.
    """
    from gis.atomic import existing_members
    from gis.db.admin import backup_database
    from gis.errors import OutputExistsError

    if existing_members(file) and not overwrite:  # before starting anything
        raise OutputExistsError(f"{file}：文件已存在；加 --overwrite 才会替换")
    dsn, version = _dsn_and_version(app)
    app.close()
    backup_database(dsn, file, overwrite=overwrite, version=version)
    click.echo(f"已备份到 {file}（{file.stat().st_size / 2**20:.1f} MiB）")


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore(app, file: Path, yes: bool) -> None:
    """Replace the database with the backup in FILE (恢复).

    The backup is restored into a new database first; the current database is
    replaced only when that succeeded, so a failed restore changes nothing.
    Pending migrations are applied afterwards.
    """
    from gis.db.admin import restore_database
    from gis.db.database import open_database
    from gis.db.migrations import schema_version

    if not yes:
        click.confirm(f"用 {file} 替换数据库"
                      f"{app.settings.db_name if not app.settings.dsn else ''}？",
                      abort=True, err=True)
    dsn, version = _dsn_and_version(app)
    app.close()
    restore_database(dsn, file, version=version)
    with open_database(app.settings, migrate=True) as conn:
        schema = schema_version(conn)
    click.echo(f"已从 {file} 恢复；数据库结构版本 {schema}")


@db.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def reset(app, yes: bool) -> None:
    """Recreate the database empty, DELETING ALL DATA (重建).

    For development (an unshipped migration was edited) or a demo from scratch.
    Take a `mujun db backup` first if the data matters.
    """
    from gis.db.admin import reset_database
    from gis.db.database import database_dsn, open_database
    from gis.db.migrations import schema_version

    if not yes:
        click.confirm("删除 mujun 数据库中的全部表和数据？", abort=True, err=True)
    dsn = database_dsn(app.settings)
    app.close()
    reset_database(dsn)
    with open_database(app.settings, migrate=True) as conn:
        version = schema_version(conn)
    click.echo(f"数据库已重建；结构版本 {version}")
