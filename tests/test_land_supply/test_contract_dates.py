"""A contract sets the dates the idle rules read (issue 23): a re-supplied parcel is
judged by its new contract's dates, not the old certificate's, which stay visible.
A constructed town in the real PostGIS server, through the real rules run."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.settings import load_settings
from scoring.land_status import lifecycle
from scoring.land_status.facts import read_facts
from scoring.land_status.rules_config import load_rules
from scoring.land_status.run import run_candidates
from scoring.land_status.supply.contracts import record_contract
from scoring.land_status.supply.plots import add_plot, advance
from tests.test_land_status.builders import add_parcel, add_survey, box, start

pytestmark = pytest.mark.postgis
D = dt.date.fromisoformat
STEPS = ("preparation", "assessment", "indicators", "announced", "transferred")


@pytest.fixture
def resupplied(db_conn, tmp_path):
    """Parcel OLD, supplied in 2010 (agreed start 2011), never built on (surveys 2026 and
    2028): an idle candidate, approved, reclaimed as plot XG-1, transferred on
    2026-03-01 with a contract signed 2026-03-05 to start by 2027-03-01."""
    conn = db_conn
    start(conn)
    add_parcel(conn, "OLD", box(0, 0, 100, 100), supply="2010-01-01", start="2011-01-01",
               finish="2013-01-01")
    add_parcel(conn, "BUILT", box(300, 0, 400, 100), supply="2010-01-01", start="2011-01-01",
               finish="2013-01-01")
    add_survey(conn, "2025-09-01", [box(310, 10, 390, 90)])
    conn.commit()
    settings = load_settings({"home": str(tmp_path)}, environ={})
    run_candidates(conn, settings, as_of="2025-12-01")
    cid, kind = conn.execute("SELECT candidate_id, kind FROM candidate"
                             " WHERE parcel_code = 'OLD'").fetchone()
    assert kind == "idle_not_started"
    v = lifecycle.decide(conn, cid, status="under_review", by="王")
    v = lifecycle.decide(conn, cid, status="confirmed", by="王", expected_version=v)
    lifecycle.decide(conn, cid, status="approved", by="王", expected_version=v)
    conn.commit()
    add_plot(conn, actor="t", candidate_id=cid, code="XG-1", industry="34", on=D("2026-01-01"))
    for step in STEPS:
        advance(conn, "XG-1", step, D("2026-03-01"), actor="t")
    record_contract(conn, "XG-1", actor="t", start_by=D("2027-03-01"),
                    complete_by=D("2029-03-01"), signed=D("2026-03-05"), contract_no="HT-9")
    return conn, settings


def _dates(conn, settings, as_of):
    res = run_candidates(conn, settings, as_of=as_of)
    facts = read_facts(conn, load_rules(), occupancy_run=res.summary["occupancy_run"],
                       as_of=D(as_of))
    return facts.parcels.set_index("parcel_code").loc["OLD"]


def _open(conn):
    return conn.execute("SELECT kind, evidence FROM candidate WHERE parcel_code = 'OLD'"
                        " AND status <> 'closed'").fetchall()


def test_a_resupplied_parcel_is_judged_by_its_new_contract(resupplied):
    conn, settings = resupplied
    add_survey(conn, "2026-09-01", [box(310, 10, 390, 90)])
    conn.commit()
    row = _dates(conn, settings, "2026-12-01")
    # the contract's dates are in force; the certificate's stay visible beside them
    assert (row["supply_date"], row["agreed_start_date"], row["agreed_finish_date"]) == (
        D("2026-03-05"), D("2027-03-01"), D("2029-03-01"))
    assert row["dates_source"] == "contract" and row["contract_plot"] == "XG-1"
    assert row["certificate_start_date"] == D("2011-01-01")
    assert conn.execute("SELECT supply_date, agreed_start_date FROM parcel"
                        " WHERE parcel_code = 'OLD'").fetchone() == (D("2010-01-01"),
                                                                     D("2011-01-01"))
    # not started yet, but the contract's start is not due: not idle (the certificate's
    # 2011 start would make it idle for 15 years)
    assert _open(conn) == []


def test_idle_again_a_year_after_the_contract_start_with_the_contract_as_evidence(resupplied):
    conn, settings = resupplied
    add_survey(conn, "2028-05-01", [box(310, 10, 390, 90)])
    conn.commit()
    _dates(conn, settings, "2028-06-01")
    ((kind, ev),) = _open(conn)
    assert kind == "idle_not_started"
    assert ev["dates"]["agreed_start"] == "2027-03-01" and ev["dates"]["supply"] == "2026-03-05"
    assert ev["dates"]["certificate_start"] == "2011-01-01"
    assert ev["dates"]["dates_source"] == "出让合同（标准地地块 XG-1，合同号 HT-9）"
    from scoring.land_status.explain import facts

    shown = {line.label: line.text for line in facts(ev)}
    assert shown["约定动工日期"] == "2027-03-01" and shown["宗地登记的约定动工日期"] == "2011-01-01"


def test_before_the_transfer_and_after_going_back_the_certificate_dates_hold(resupplied):
    conn, settings = resupplied
    row = _dates(conn, settings, "2026-12-01")
    assert row["dates_source"] == "contract"
    advance(conn, "XG-1", "announced", D("2026-06-01"), actor="t", reason="出让撤销")
    row = _dates(conn, settings, "2026-12-01")
    assert row["dates_source"] == "parcel" and row["agreed_start_date"] == D("2011-01-01")
    # and its contract is not checked: no breach of a contract not in force
    from scoring.land_status.supply.check import check_contracts

    add_survey(conn, "2028-05-01", [box(310, 10, 390, 90)])
    conn.commit()
    assert len(check_contracts(conn, settings, as_of="2028-06-01").breaches) == 0
    advance(conn, "XG-1", "transferred", D("2026-07-01"), actor="t")
    again = check_contracts(conn, settings, as_of="2028-06-01")   # in force again: late start
    assert list(again.breaches["parcel_code"]) == ["OLD"]
    row = _dates(conn, settings, "2026-02-01")        # before the contract was signed
    assert row["dates_source"] == "parcel" and row["agreed_start_date"] == D("2011-01-01")
