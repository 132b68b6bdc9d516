"""The demo stage `review`: a demo administrator, its password shown once."""

from __future__ import annotations

from maps.review.passwords import verify_password
from sample.demo import DemoRun
from sample.stages.review import stage_review
from tests.cli_runner import fetch


def test_stage_creates_the_admin_once(db_conn, tmp_path, monkeypatch):
    monkeypatch.delenv("MUJUN_DEMO_ADMIN_PASSWORD", raising=False)
    run = DemoRun(size="small", seed=1, root=tmp_path, connect=lambda: db_conn)
    first = stage_review(run)
    password = first["password"].split()[0]
    assert len(password) >= 10 and "mujun serve" in first["start"]
    (role, stored), = fetch(db_conn, "SELECT role, password_hash FROM app_user"
                                      " WHERE username = 'admin'")
    assert role == "admin" and verify_password(stored, password)
    assert fetch(db_conn, "SELECT district, town FROM app_user_scope") == [(None, None)]
    again = stage_review(run)
    assert "password" not in again and "exists" in again["admin"]
    assert stage_review(DemoRun(size="small", seed=1, root=tmp_path, load=False)) is None


def test_password_from_the_environment_and_stage_order(db_conn, tmp_path, monkeypatch):
    monkeypatch.setenv("MUJUN_DEMO_ADMIN_PASSWORD", "demo-admin-password")
    out = stage_review(DemoRun(size="small", seed=1, root=tmp_path, connect=lambda: db_conn))
    assert "demo-admin-password" not in str(out)
    stored = fetch(db_conn, "SELECT password_hash FROM app_user")[0][0]
    assert verify_password(stored, "demo-admin-password")
    assert stage_review.order == 80
