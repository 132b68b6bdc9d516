"""The review API against the real server (uvicorn) and the real database."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.postgis


def test_list_is_scoped_and_sorted_by_priority(sessions, seeded):
    resp = sessions["off_east"].get("/api/candidates", params={"limit": 500})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    ids = {c["candidate_id"] for c in data["items"]}
    assert ids == set(seeded["东区"])
    assert data["total"] == len(seeded["东区"])
    prios = [c["priority"] for c in data["items"]]
    assert prios == sorted(prios, reverse=True)
    assert {c["district"] for c in data["items"]} == {"东区"}


def test_admin_sees_everything(sessions, seeded):
    data = sessions["admin"].get("/api/candidates", params={"limit": 500}).json()
    assert data["total"] == len(seeded["东区"]) + len(seeded["西区"])


def test_town_grant_sees_only_that_town(sessions):
    data = sessions["plan_jia"].get("/api/candidates", params={"limit": 500}).json()
    assert data["total"] > 0 and {c["town"] for c in data["items"]} == {"甲镇"}
