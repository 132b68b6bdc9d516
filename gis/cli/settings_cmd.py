"""``mujun settings``: every setting with its value, where it came from and what it does."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option

#: Where a value came from, as the text view says it (a file's path and a $MUJUN_*
#: variable are named as they are).
ORIGINS = {"default": "默认值", "override": "命令行指定"}


@click.command("settings")
@json_option
@click.pass_obj
def settings_cmd(app, as_json: bool) -> None:
    """List every setting with value, origin, help (设置).

    Settings come from MUJUN_<NAME> environment variables, then
    <MUJUN_HOME>/settings.yaml (or $MUJUN_SETTINGS), then defaults. The DSN is
    shown without its password.
    """
    from gis.db.dsn import redact_dsn
    from gis.settings import SETTINGS

    settings = app.settings
    rows = []
    for s in SETTINGS:
        value = getattr(settings, s.name)
        if s.name in ("dsn", "app_dsn") and value:
            value = redact_dsn(value)
        rows.append({"name": s.name, "value": value, "origin": settings.origins.get(s.name),
                     "env": s.env, "help": s.help})
    if as_json:
        emit(rows, True)
        return
    width = max(len(r["name"]) for r in rows)
    lines = []
    for r in rows:
        shown = "（未设置）" if r["value"] is None else r["value"]
        origin = ORIGINS.get(r["origin"], f"文件 {r['origin']}" if r["origin"] and not
                             str(r["origin"]).startswith("$") else f"环境变量 {r['origin']}")
        lines.append(f"{r['name']:<{width}}  {shown}  [{origin}]")
        lines.append(f"{'':<{width}}  {r['help']}（环境变量 {r['env']}）")
    emit(rows, False, "\n".join(lines))
