"""``mujun user``: review-app users, their roles and the districts/towns they work on."""

from __future__ import annotations

import sys

import click

from gis.cli.options import emit, json_option

_ROLES = ("viewer", "technician", "planner", "official", "admin")
password_stdin_option = click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from the first line of standard input (for scripts) instead of "
         "prompting.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


def _areas(user: dict) -> str:
    if user["everywhere"]:
        return "全部区域"
    parts = [f"区县 {d}" for d in user["districts"]] + [f"镇街 {t}" for t in user["towns"]]
    return "、".join(parts) or "未分配区域"


def _role(role: str) -> str:
    """The role as the review app names it (角色, from its string table)."""
    from maps.review.i18n import table

    return table("zh").get(f"role_{role}", role)


@click.group("user")
def user() -> None:
    """The review app's users (用户管理).

    \b
    Roles: viewer (looks), technician (field-check notes and photos),
    planner (exports, enterprise figures), official (decides on candidates),
    admin (everything). A user sees only the districts/towns granted to them
    (enforced by row-level security in PostgreSQL). Passwords are stored as
    Argon2 hashes; users are disabled, never deleted.
    """


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(_ROLES), required=True, help="What the user may do.")
@click.option("--name", "display_name", help="Full name shown in the app.")
@click.option("--district", "districts", multiple=True, help="Grant a district (repeatable).")
@click.option("--town", "towns", multiple=True, help="Grant a town (repeatable).")
@click.option("--all-areas", is_flag=True, help="Grant every district and town.")
@password_stdin_option
@json_option
@click.pass_obj
def add_cmd(app, username, role, display_name, districts, towns, all_areas, password_stdin,
            as_json):
    """Create USERNAME with a role and areas (添加用户)."""
    from maps.review.users import add_user, grant

    password = _read_password(password_stdin)
    conn = app.connect()
    add_user(conn, username, password, role=role, display_name=display_name)
    info = grant(conn, username, districts=districts, towns=towns, everywhere=all_areas)
    conn.commit()
    emit(info, as_json, f"已添加用户 {username}：{_role(role)}，{_areas(info)}")


@user.command("passwd")
@click.argument("username")
@password_stdin_option
@click.pass_obj
def passwd_cmd(app, username, password_stdin):
    """Set a new password for USERNAME (改密码)."""
    from maps.review.users import set_password

    password = _read_password(password_stdin)
    conn = app.connect()
    set_password(conn, username, password)
    conn.commit()
    click.echo(f"用户 {username} 的密码已更改")


@user.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable a disabled user again.")
@click.pass_obj
def disable_cmd(app, username, enable):
    """Stop USERNAME from logging in; --enable undoes it (停用)."""
    from maps.review.users import set_active

    conn = app.connect()
    set_active(conn, username, enable)
    conn.commit()
    click.echo(f"用户 {username} {'已启用' if enable else '已停用'}")


@user.command("grant")
@click.argument("username")
@click.option("--role", type=click.Choice(_ROLES), help="Change the user's role.")
@click.option("--district", "districts", multiple=True, help="A district (repeatable).")
@click.option("--town", "towns", multiple=True, help="A town (repeatable).")
@click.option("--all-areas", is_flag=True, help="Every district and town.")
@click.option("--revoke", is_flag=True, help="Remove the given areas instead of adding them.")
@json_option
@click.pass_obj
def grant_cmd(app, username, role, districts, towns, all_areas, revoke, as_json):
    """Change USERNAME's role and areas (授权)."""
    from maps.review.users import grant

    conn = app.connect()
    info = grant(conn, username, role=role, districts=districts, towns=towns,
                 everywhere=all_areas, revoke=revoke)
    conn.commit()
    emit(info, as_json, f"用户 {username}：{_role(info['role'])}，{_areas(info)}")


@user.command("list")
@json_option
@click.pass_obj
def list_cmd(app, as_json):
    """List users with role, state and areas (用户列表)."""
    from maps.review.users import list_users

    users = list_users(app.connect())
    lines = [f"{u['username']:<20} {_role(u['role']):<6} {'在用' if u['active'] else '已停用':<4}"
             f" {_areas(u)}" for u in users] or ["尚无用户；用 `mujun user add` 添加"]
    emit(users, as_json, "\n".join(lines))
