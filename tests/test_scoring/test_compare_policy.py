"""`score compare --policy`: the change in policy amounts, against two real `policy apply` runs.

The twenty-firm county of the policy known answer is scored twice for 2017 (Huai'an and
Huangyan rule sets: classes differ), the same policy rule set is applied to each run
with `policy apply` (stored), and the per-firm, per-transition and total differences
that `score compare --policy` computes in memory must equal those summed from the two
stored runs' ``policy_line`` rows in SQL. Nothing is stored by the comparison.
"""

from __future__ import annotations

import json
from collections import Counter

import openpyxl
import pandas as pd
import pytest

from scoring.policy.store import yuan
from tests.cli_runner import fetch
from tests.test_scoring.county import mujun
from tests.test_scoring.test_policy_known_answer import POLICY, county  # noqa: F401

pytestmark = pytest.mark.postgis

TABLES = ("run", "policy_enterprise", "policy_line", "enterprise_score")


def _per_firm(db_conn, policy_run: int) -> dict[str, int]:
    """Σ amount_fen per firm of a stored policy run (the independent answer)."""
    rows = fetch(db_conn, "SELECT trim(credit_code), coalesce(sum(amount_fen), 0)::bigint"
                          " FROM policy_line WHERE run_id = %s GROUP BY 1", (policy_run,))
    return {code: int(fen) for code, fen in rows}


def _final_classes(db_conn, score_run: int) -> dict[str, str]:
    rows = fetch(db_conn, "SELECT trim(credit_code), class FROM enterprise_score"
                          " WHERE run_id = %s", (score_run,))
    return {c: k or "none" for c, k in rows}


def test_compare_policy_agrees_with_two_policy_runs(county, tmp_path, db_conn, db_dsn,  # noqa: F811
                                                    monkeypatch, capsys):
    c = county["codes"]
    for kind, path in (("electricity", county["power"]), ("sewage", county["sewage"])):
        mujun(["import", "accounts", path, "--kind", kind, "--year", 2018], monkeypatch,
              db_dsn, capsys)
    mujun(["import", "land-tax", county["tax"], "--year", 2018], monkeypatch, db_dsn, capsys)
    rules = tmp_path / "county-2018.yaml"
    rules.write_text(POLICY % {"c_minus": c[2]}, encoding="utf-8")
    run_a = county["score_run"]
    run_b = json.loads(mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", 2017,
                              "--json"], monkeypatch, db_dsn, capsys))["run_id"]
    ka, kb = _final_classes(db_conn, run_a), _final_classes(db_conn, run_b)
    assert any(ka[k] != kb.get(k) for k in ka), "the two rule sets must class differently"
    # the independent answer: two stored policy runs, one per score run, summed in SQL
    stored = {}
    for side, run in (("a", run_a), ("b", run_b)):
        out = json.loads(mujun(["policy", "apply", "--ruleset", rules, "--score-run", run,
                                "--json"], monkeypatch, db_dsn, capsys))
        stored[side] = _per_firm(db_conn, out["run_id"])
    codes = set(ka) | set(kb)
    diff = {k: stored["b"].get(k, 0) - stored["a"].get(k, 0) for k in codes}
    assert any(diff.values()), "some amount must move for the test to mean anything"
    db_conn.commit()
    before = {t: fetch(db_conn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

    got = json.loads(mujun(["score", "compare", run_a, run_b, "--policy", rules, "--json"],
                           monkeypatch, db_dsn, capsys))["policy"]
    assert got["ruleset"]["name"] == "test-county-2018"
    assert got["totals"]["amount_a_yuan"] == yuan(sum(stored["a"].values()))
    assert got["totals"]["amount_b_yuan"] == yuan(sum(stored["b"].values()))
    assert got["totals"]["difference_yuan"] == yuan(sum(diff.values()))
    mine = {r["credit_code"]: r for r in got["firms"]}
    for code, fen in diff.items():
        if fen:
            assert mine[code]["difference_yuan"] == yuan(fen), code
            assert mine[code]["amount_a_yuan"] == yuan(stored["a"].get(code, 0))
        elif code in mine:
            assert mine[code]["difference_yuan"] == "0.00"
    assert got["totals"]["firms_changed"] == sum(1 for v in diff.values() if v)
    # per transition of the final class: Σ differences of its firms, firms counted
    trans = Counter()
    firms = Counter()
    for code in codes:
        key = (ka.get(code, "none"), kb.get(code, "none"))
        trans[key] += diff[code]
        firms[key] += 1
    got_t = {(r["class_a"], r["class_b"]): r for r in got["by_transition"]}
    assert set(got_t) == set(firms)
    for key, fen in trans.items():
        assert got_t[key]["difference_yuan"] == yuan(fen), key
        assert got_t[key]["firms"] == firms[key]
    assert sum(pd.to_numeric(pd.Series([r["difference_yuan"] for r in got["by_item"]]))) \
        == pytest.approx(sum(diff.values()) / 100)

    # the text view, the workbook and the CSV say the same
    text = mujun(["score", "compare", run_a, run_b, "--policy", rules], monkeypatch, db_dsn,
                 capsys)
    assert "差别化政策金额变化" in text and f"变化 {got['totals']['difference_yuan']} 元" in text
    xlsx = tmp_path / "compare.xlsx"
    mujun(["score", "compare", run_a, run_b, "--policy", rules, "-o", xlsx], monkeypatch,
          db_dsn, capsys)
    wb = openpyxl.load_workbook(xlsx)
    assert {"政策金额变化（企业）", "政策金额变化（档次转移）", "政策金额变化（项目）"} <= set(wb.sheetnames)
    header = [cell.value for cell in wb["政策金额变化（企业）"][1]]
    assert "政策金额变化（乙−甲，元）" in header
    csv = tmp_path / "compare.csv"
    mujun(["score", "compare", run_a, run_b, "--policy", rules, "-o", csv], monkeypatch,
          db_dsn, capsys)
    table = pd.read_csv(csv, dtype=str)
    assert len(table) == sum(1 for k in codes if ka.get(k, "none") != kb.get(k, "none"))
    for code, value in zip(table["credit_code"], table["difference_yuan"], strict=True):
        assert value == yuan(diff[code.strip()]), code

    # what-if with --policy: the same figures for the rule set not stored as a run
    what = json.loads(mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", 2017,
                             "--what-if", "--against", run_a, "--policy", rules, "--json"],
                            monkeypatch, db_dsn, capsys))["policy"]
    assert what["totals"] == got["totals"]
    after = {t: fetch(db_conn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    assert after == before


def test_policy_options_go_with_a_comparison(db_dsn, tmp_path, monkeypatch, capsys):
    from tests.cli_runner import run_mujun

    for argv, words in ((["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2017",
                          "--policy", "nanjing-2018"], "--what-if"),
                        (["score", "compare", "1", "2", "--policy-param", "x=1"], "--policy")):
        code, _out, err = run_mujun(argv, monkeypatch, db_dsn, capsys)
        assert code == 2 and words in err and "Traceback" not in err, err
    # an invalid policy rule set: one line naming the file, nothing else
    bad = tmp_path / "坏规则.yaml"
    bad.write_text("name: x\nyear: 2018\nitems: 3\n", encoding="utf-8")
    code, _out, err = run_mujun(["score", "compare", "1", "2", "--policy", str(bad)],
                                monkeypatch, db_dsn, capsys)
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "坏规则.yaml" in err                     # the rule set is checked before the runs
