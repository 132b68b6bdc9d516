"""``mujun settings``: every setting with its value, where it came from and what it does."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option


@click.command("settings")
@json_option
@click.pass_obj
def settings_cmd(app, as_json: bool) -> None:
    """List every setting: value, origin (default, $MUJUN_*, settings file) and help.

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
        shown = "(not set)" if r["value"] is None else r["value"]
        lines.append(f"{r['name']:<{width}}  {shown}  [{r['origin']}]")
        lines.append(f"{'':<{width}}  {r['help']} (env {r['env']})")
    emit(rows, False, "\n".join(lines))
