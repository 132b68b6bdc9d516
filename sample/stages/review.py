"""Demo stage: a review-app administrator and how to start ``mujun serve``."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sample.demo_run import DemoRun

#: User name of the demo administrator.
DEMO_ADMIN = "admin"
#: Environment variable that sets the demo administrator's password (else one is generated).
PASSWORD_ENV = "MUJUN_DEMO_ADMIN_PASSWORD"


def stage_review(run: DemoRun) -> dict | None:
    """Create the demo administrator (all areas) once; its password is printed only then.

    The password is ``$MUJUN_DEMO_ADMIN_PASSWORD`` or a generated one. An existing
    administrator is left as it is (``mujun user passwd admin`` resets the password).
    """
    if not run.load:
        return None
    from maps.review.users import add_user, grant

    conn = run.conn
    exists = conn.execute("SELECT 1 FROM app_user WHERE username = %s",
                          (DEMO_ADMIN,)).fetchone()
    out = {"start": "mujun serve   then open http://127.0.0.1:8000/ (docs/review.md)"}
    if exists:
        out["admin"] = f"{DEMO_ADMIN} (exists; `mujun user passwd {DEMO_ADMIN}` sets a new password)"
        return out
    password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(12)
    add_user(conn, DEMO_ADMIN, password, role="admin", display_name="演示管理员", actor="demo")
    grant(conn, DEMO_ADMIN, everywhere=True, actor="demo")
    conn.commit()
    out["admin"] = DEMO_ADMIN
    out["password"] = ("from $" + PASSWORD_ENV if os.environ.get(PASSWORD_ENV)
                       else f"{password}   (shown once; change it with `mujun user passwd admin`)")
    return out


stage_review.order = 80
