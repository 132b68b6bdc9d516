"""Going back after 出让 (issue 23): the candidate closed on transfer gets its decision
back, or the step is refused with the reason when the parcel has a new open candidate.
A constructed town in the real PostGIS server."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring.land_status.supply.errors import StepError
from scoring.land_status.supply.plots import add_plot, advance
from tests.cli_runner import run_mujun
from tests.test_land_status.builders import add_parcel, box, start

pytestmark = pytest.mark.postgis
D = dt.date.fromisoformat
STEPS = ("preparation", "assessment", "indicators", "announced", "transferred")


@pytest.fixture
def transferred(db_conn):
    """Parcel P1 with an approved candidate, reclaimed as plot A and transferred (出让)."""
    start(db_conn)
    add_parcel(db_conn, "P1", box(0, 0, 100, 100), supply="2005-01-01", start="2005-06-01",
               finish="2007-06-01")
    cid = db_conn.execute("INSERT INTO candidate (parcel_code, kind, status, town, district,"
                          " area_m2) VALUES ('P1', 'idle_not_started', 'approved', '镇A', '区',"
                          " 10000) RETURNING candidate_id").fetchone()[0]
    db_conn.commit()
    add_plot(db_conn, actor="t", candidate_id=cid, code="A", industry="34", on=D("2025-01-01"))
    for step in STEPS:
        advance(db_conn, "A", step, D("2025-06-01"), actor="t")
    assert _candidate(db_conn, cid)[0] == "closed"
    return db_conn, cid


def _candidate(conn, cid):
    return conn.execute("SELECT status, closed_reason FROM candidate WHERE candidate_id = %s",
                        (cid,)).fetchone()


def test_back_before_transfer_gives_the_candidate_its_approval_back(transferred, monkeypatch,
                                                                    db_dsn, capsys):
    conn, cid = transferred
    advance(conn, "A", "contracted", D("2025-07-01"), actor="t")
    code, _, err = run_mujun(["supply", "advance", "A", "--to", "公告", "--date", "2025-09-01",
                              "--reason", "竞得人放弃，出让撤销", "--by", "李四"],
                             monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert _candidate(conn, cid) == ("approved", None)
    last = conn.execute("SELECT action, from_status, to_status, actor, comment FROM review_event"
                        " WHERE candidate_id = %s ORDER BY event_id DESC LIMIT 1",
                        (cid,)).fetchone()
    assert last[:4] == ("reopened", "closed", "approved", "李四")
    assert "由「合同」退回「公告」：竞得人放弃，出让撤销" in last[4]
    # transferred again: closed again
    advance(conn, "A", "transferred", D("2025-10-01"), actor="t")
    assert _candidate(conn, cid)[0] == "closed"


def test_going_back_within_the_transferred_steps_keeps_the_candidate_closed(transferred):
    conn, cid = transferred
    advance(conn, "A", "contracted", D("2025-07-01"), actor="t")
    advance(conn, "A", "transferred", D("2025-07-02"), actor="t", reason="合同文本更正")
    assert _candidate(conn, cid)[0] == "closed"


def test_back_refused_when_the_parcel_has_a_new_open_candidate(transferred, monkeypatch,
                                                               db_dsn, capsys):
    conn, cid = transferred
    new = conn.execute("INSERT INTO candidate (parcel_code, kind, status, town, district,"
                       " area_m2) VALUES ('P1', 'idle_not_started', 'new', '镇A', '区', 10000)"
                       " RETURNING candidate_id").fetchone()[0]
    conn.commit()
    code, _, err = run_mujun(["supply", "advance", "A", "--to", "公告", "--date", "2025-09-01",
                              "--reason", "出让撤销", "--by", "t"], monkeypatch, db_dsn, capsys)
    assert code == 3, err
    assert f"已有新的候选 {new}" in err and "不能退回到出让之前" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    # nothing changed: the plot is still transferred, the candidate still closed
    assert conn.execute("SELECT status FROM supply_plot").fetchone() == ("transferred",)
    assert _candidate(conn, cid)[0] == "closed"
    with pytest.raises(StepError, match="须说明原因"):
        advance(conn, "A", "announced", D("2025-09-01"), actor="t")
