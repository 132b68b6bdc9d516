"""The land-status rules on a constructed town in PostGIS: every kind, two surveys, re-runs."""

from __future__ import annotations

import pytest

from gis.settings import load_settings
from scoring.land_status import lifecycle
from scoring.land_status.run import run_candidates
from tests.test_land_status.builders import add_firm, add_survey, box

AS_OF = "2024-12-31"


def settings(tmp_path):
    return load_settings({"home": str(tmp_path)}, environ={})


def open_kinds(conn):
    rows = conn.execute("SELECT parcel_code, kind FROM candidate WHERE status <> 'closed'"
                        " ORDER BY 1, 2").fetchall()
    return {(p, k) for p, k in rows}


def test_every_kind_on_the_constructed_town(town, tmp_path):
    conn, sid1, sid2 = town
    res = run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    found = open_kinds(conn)
    assert found == {
        ("IDLE", "idle_not_started"), ("SLIVER", "idle_not_started"),
        ("DEMOL", "idle_not_started"),
        ("STALLED", "idle_stalled"), ("UNFIN", "unfinished"), ("INEFF", "inefficient"),
        ("UNUSED", "built_unused"), ("NEARZERO", "built_unused"), ("NOLINK", "built_unused"),
    }, res.summary
    assert res.summary["by_kind"]["idle_not_started"] == 3
    ev = dict(conn.execute("SELECT parcel_code, evidence FROM candidate").fetchall())
    assert ev["SLIVER"]["built_m2"] == 0 and ev["SLIVER"]["sliver_m2"] == pytest.approx(80.0)
    assert ev["STALLED"]["change"]["built_after_m2"] == pytest.approx(1600.0)
    assert ev["STALLED"]["previous_survey"] == {"id": sid1, "date": "2023-05-01"}
    assert ev["IDLE"]["survey"] == {"id": sid2, "date": "2024-09-01"}
    assert ev["INEFF"]["far_min"] == 1.0 and ev["INEFF"]["far"] == pytest.approx(0.5)
    assert ev["UNUSED"]["enterprises"][0]["status"] == "deregistered"
    rules = dict(conn.execute("SELECT parcel_code, rules FROM candidate").fetchall())
    fired_ineff = {r["rule"] for r in rules["INEFF"] if r.get("reason") and r["passed"]}
    assert fired_ineff == {"coverage_below_control", "far_below_industry_minimum",
                           "far_below_agreed"}
    # one candidate per parcel; the counts per kind and per reason
    assert conn.execute("SELECT count(DISTINCT parcel_code) = count(*) FROM candidate"
                        ).fetchone()[0]
    assert res.summary["by_reason"]["far_below_agreed"] == 1
    assert res.summary["by_reason_inefficient"] == {
        "coverage_below_control": 1, "far_below_agreed": 1, "far_below_industry_minimum": 1}
    assert res.summary["with_kind"]["built_unused"] == 3
    # area in m² and mu, reclaimable estimate
    row = conn.execute("SELECT area_m2, reclaimable_m2, certainty, priority FROM candidate"
                       " WHERE parcel_code = 'STALLED'").fetchone()
    assert row[0] == pytest.approx(10000.0)
    assert row[1] == pytest.approx(10000.0 - 1600.0 / 0.3)
    assert 0 < row[2] <= 1 and row[3] > 0
    # every candidate was created with one event
    assert conn.execute("SELECT count(*) FROM review_event WHERE action = 'created'"
                        ).fetchone()[0] == 9


def test_rerun_keeps_decisions_and_closes_what_no_longer_holds(town, tmp_path):
    conn, _sid1, _sid2 = town
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    ids = dict(conn.execute("SELECT parcel_code, candidate_id FROM candidate").fetchall())
    v = lifecycle.decide(conn, ids["STALLED"], status="under_review", by="王")
    lifecycle.decide(conn, ids["STALLED"], status="confirmed", by="王", expected_version=v)
    lifecycle.decide(conn, ids["IDLE"], status="under_review", by="王")
    lifecycle.decide(conn, ids["NOLINK"], status="field_check", by="李")
    conn.commit()
    # the same run again: nothing changes, decisions stay, no new events but none lost
    events_before = conn.execute("SELECT count(*) FROM review_event").fetchone()[0]
    res = run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    assert res.summary["created"] == 0 and res.summary["closed"] == 0
    assert res.summary["kept_decisions"] == 3
    assert conn.execute("SELECT count(*) FROM review_event").fetchone()[0] == events_before
    # a new survey shows IDLE built and NOLINK linked to a firm: re-run a year later
    add_survey(conn, "2025-05-01", [box(10, 10, 90, 90)], coverage=box(-50, -50, 150, 150))
    add_firm(conn, 9, "NOLINK")
    conn.commit()
    res = run_candidates(conn, settings(tmp_path), as_of="2025-06-30")
    status = dict(conn.execute("SELECT parcel_code, status FROM candidate"
                               " WHERE candidate_id = ANY(%s)", (list(ids.values()),)).fetchall())
    assert status["IDLE"] == "closed" and status["NOLINK"] == "closed"
    assert status["STALLED"] == "confirmed"
    reason = conn.execute("SELECT closed_reason FROM candidate WHERE candidate_id = %s",
                          (ids["IDLE"],)).fetchone()[0]
    assert "not_started" in reason and f"run {res.run_id}" in reason
    hist = lifecycle.history(conn, ids["IDLE"])
    assert [e["action"] for e in hist][:2] == ["created", "decided"]
    assert hist[-1]["action"] == "closed" and hist[-1]["from_status"] == "under_review"
    assert len(lifecycle.history(conn, ids["STALLED"])) >= 3


def test_exempted_parcel_stays_out_of_idle_kinds(town, tmp_path):
    conn, *_ = town
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    assert not any(p == "EXEMPT" for p, _ in open_kinds(conn))
    # revoking the exemption brings it back
    conn.execute("UPDATE land_exemption SET revoked_at = now(), revoked_by = 'x'")
    conn.commit()
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    assert ("EXEMPT", "idle_not_started") in open_kinds(conn)


def test_as_of_the_first_survey_sees_the_building_before_demolition(town, tmp_path):
    conn, _sid1, _ = town
    run_candidates(conn, settings(tmp_path), as_of="2023-12-31")
    found = open_kinds(conn)
    assert ("DEMOL", "idle_not_started") not in found
    assert ("UNFIN", "unfinished") not in found       # completion date 2024-06-30 not passed
    assert ("IDLE", "idle_not_started") in found       # 2022-03-01 + 1 year, survey 2023-05-01
    assert ("STALLED", "idle_stalled") not in found    # no earlier survey a year before
    assert ("STALLED", "unfinished") not in found      # completion 2026


def test_rules_file_switches_a_kind_off_and_closes_its_candidates(town, tmp_path):
    conn, *_ = town
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    rules = tmp_path / "rules.yaml"
    rules.write_text("built_unused:\n  enabled: false\n", encoding="utf-8")
    res = run_candidates(conn, settings(tmp_path), as_of=AS_OF, rules_path=rules)
    assert res.summary["closed"] == 3
    reasons = [r[0] for r in conn.execute("SELECT closed_reason FROM candidate"
                                          " WHERE status = 'closed'").fetchall()]
    assert all("switched off" in r for r in reasons)


def _score_run(conn, rows):
    """A score run of 2024 with (credit_code, class, tax_per_mu, benchmark) rows."""
    from psycopg.types.json import Jsonb

    run = conn.execute("INSERT INTO run (kind, params, code_version, status, finished_at)"
                       " VALUES ('score', '{\"year\": 2024}', 't', 'done', now())"
                       " RETURNING run_id").fetchone()[0]
    for code, cls, tax, bench in rows:
        conn.execute(
            "INSERT INTO enterprise_score (run_id, credit_code, year, ruleset, class, indicators,"
            " items) VALUES (%s, %s, 2024, 'test', %s, %s, %s)",
            (run, code, cls, Jsonb({"tax_per_mu": tax}),
             Jsonb({"tax_per_mu": {"value": tax, "benchmark": {"value": bench}}})))
    conn.commit()
    return run


def test_class_d_and_tax_per_mu_from_the_latest_score_run(town, tmp_path):
    from tests.test_land_status.builders import credit

    conn, *_ = town
    # HEALTHY's holder: class D; NEIGHBOUR's holder: tax 4 against a 24.097 benchmark (0.17,
    # below the floor 0.2: decisive)
    run = _score_run(conn, [(credit(7), "D", 30.0, 24.097), (credit(1), "C", 4.0, 24.097),
                            (credit(4), "B", 30.0, 24.097)])
    res = run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    assert res.summary["score_run"] == run
    found = open_kinds(conn)
    assert ("HEALTHY", "inefficient") in found and ("NEIGHBOUR", "inefficient") in found
    rules = dict(conn.execute("SELECT parcel_code, rules FROM candidate").fetchall())
    why = {p: {r["rule"] for r in rules[p] if r.get("reason") and r["passed"]}
           for p in ("HEALTHY", "NEIGHBOUR")}
    assert why == {"HEALTHY": {"class_d"},
                   "NEIGHBOUR": {"tax_per_mu_below", "tax_per_mu_below_floor"}}
    ratio = next(r for r in rules["NEIGHBOUR"] if r["rule"] == "tax_per_mu_below")
    assert ratio["value"] == pytest.approx(4.0 / 24.097, rel=1e-5) and ratio["threshold"] == 0.5
    # a fixed benchmark in the rules file wins: 4 is half of 8, not below
    f = tmp_path / "rules.yaml"
    f.write_text("inefficient:\n  tax_per_mu_benchmark_wan: 8\n", encoding="utf-8")
    run_candidates(conn, settings(tmp_path), as_of=AS_OF, rules_path=f)
    assert ("NEIGHBOUR", "inefficient") not in open_kinds(conn)


def test_approved_but_unsupplied_land(town, tmp_path):
    """批而未供: an approval of 2020 over cells 0-1 (IDLE, supplied, and the empty gap beside
    it) leaves 100 m × 100 m unsupplied; a 2024 approval is inside its two-year grace."""
    from tests.test_land_status.builders import SRID

    conn, *_ = town
    for code, date, geom in (("批2020-01", "2020-03-01", box(0, 0, 200, 100)),
                             ("批2024-07", "2024-07-01", box(-300, 0, -100, 100))):
        conn.execute("INSERT INTO land_approval (approval_code, approved_date, geom, town)"
                     " VALUES (%s, %s, ST_Multi(ST_GeomFromWKB(%s, %s)), '镇A')",
                     (code, date, geom.wkb, SRID))
    conn.commit()
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    rows = conn.execute("SELECT parcel_code, area_m2, reclaimable_m2, evidence FROM candidate"
                        " WHERE kind = 'approved_unsupplied'").fetchall()
    assert [(r[0], round(r[1]), round(r[2])) for r in rows] == [("批2020-01", 20000, 10000)]
    assert rows[0][3]["approved_date"] == "2020-03-01"
    # supplying the rest closes it with the reason
    from tests.test_land_status.builders import add_parcel

    add_parcel(conn, "GAP", box(100, 0, 200, 100), supply="2024-10-01")
    conn.commit()
    res = run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    assert res.summary["closed"] >= 1
    status, reason = conn.execute("SELECT status, closed_reason FROM candidate"
                                  " WHERE parcel_code = '批2020-01'").fetchone()
    assert status == "closed" and "now supplied" in reason


def test_two_owners_give_the_same_answer_on_every_run(db_conn, tmp_path):
    """Owners in food processing (2002 division 13: FAR ≥ 1.0) and petroleum processing
    (2017 division 25 ← 2002 25: FAR ≥ 0.5). The lower minimum applies whatever order
    the rows come in, so FAR 0.7 is not inefficient; re-runs change nothing."""
    from tests.test_land_status.builders import add_parcel, add_right, credit, start

    conn = db_conn
    start(conn)
    add_parcel(conn, "TWO", box(0, 0, 100, 100), supply="2005-01-01", start="2005-06-01",
               finish="2007-06-01")
    add_survey(conn, "2024-09-01", [box(0, 0, 100, 70)], heights=[3.0])   # FAR 0.7
    for n, industry in ((31, "1310"), (32, "2511")):
        code = add_firm(conn, n, "TWO", industry=industry)
        assert code == credit(n)
    add_right(conn, "TWO", credit(99), "tenant")          # a tenant nobody knows: not counted
    conn.commit()
    for _ in range(3):
        res = run_candidates(conn, settings(tmp_path), as_of=AS_OF)
        assert ("TWO", "inefficient") not in open_kinds(conn)
    assert res.summary["changed"] == 0 and res.summary["created"] == 0
    import datetime as dt

    from scoring.land_status.facts import read_facts
    from scoring.land_status.rules_config import load_rules

    facts = read_facts(conn, load_rules(), occupancy_run=res.summary["occupancy_run"],
                       as_of=dt.date(2024, 12, 31))
    row = facts.parcels.set_index("parcel_code").loc["TWO"]
    assert row["far_min"] == 0.5 and row["n_linked"] == 2 and row["n_unknown"] == 1


def test_deregistration_after_the_as_of_date_does_not_count(town, tmp_path):
    from tests.test_land_status.builders import credit

    conn, *_ = town
    conn.execute("UPDATE enterprise SET deregistered_date = '2025-03-01' WHERE credit_code = %s",
                 (credit(5),))
    conn.commit()
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    assert ("UNUSED", "built_unused") not in open_kinds(conn)
    run_candidates(conn, settings(tmp_path), as_of="2025-06-30")
    assert ("UNUSED", "built_unused") in open_kinds(conn)


def test_a_parcel_firing_two_kinds_is_one_candidate_with_one_decision(town, tmp_path):
    conn, *_ = town
    run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    cid, kinds = conn.execute("SELECT candidate_id, kinds FROM candidate"
                              " WHERE parcel_code = 'INEFF'").fetchone()
    assert kinds == ["inefficient"]
    lifecycle.decide(conn, cid, status="under_review", by="王")
    conn.commit()
    # its firm is deregistered: the parcel is built-unused too, still one candidate
    conn.execute("UPDATE enterprise SET status = 'deregistered' WHERE credit_code IN ("
                 "SELECT credit_code FROM land_right WHERE parcel_code = 'INEFF')")
    conn.commit()
    res = run_candidates(conn, settings(tmp_path), as_of=AS_OF)
    rows = conn.execute("SELECT candidate_id, kind, kinds, reasons, status FROM candidate"
                        " WHERE parcel_code = 'INEFF'").fetchall()
    assert rows == [(cid, "built_unused", ["built_unused", "inefficient"],
                     ["built_unused", "inefficient", "coverage_below_control",
                      "far_below_industry_minimum", "far_below_agreed"], "under_review")]
    assert res.summary["with_kind"]["inefficient"] == 1 and res.summary["by_kind"].get(
        "inefficient") == 0
    rules = conn.execute("SELECT rules FROM candidate WHERE candidate_id = %s",
                         (cid,)).fetchone()[0]
    assert rules[0]["kind"] == "built_unused" and rules[-1]["kind"] == "inefficient"
    assert [e["action"] for e in lifecycle.history(conn, cid)] == [
        "created", "decided", "refreshed"]
