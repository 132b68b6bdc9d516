"""`score compare` and `score --what-if` on two real runs of the sample city.

The comparison is checked against one computed independently from the two files of
`score export` (pandas crosstab and groupby on the exported CSVs), and the what-if
run is checked to store nothing.
"""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

pytestmark = [pytest.mark.postgis, pytest.mark.slow]

ORDER = ["A", "B", "C", "D", "T", "none"]
RANK = {"A": 0, "B": 1, "C": 2, "D": 3}
TABLES = ("run", "enterprise_score", "score_warning", "verification_item", "class_override",
          "import_batch")


def _ok(argv, monkeypatch, db_dsn, capsys) -> str:
    code, out, err = run(argv, monkeypatch, db_dsn, capsys)
    assert code == 0, err
    return out


def _independent(path_a, path_b):
    """Matrix, changed firms, shifts per town and land per class from two export files."""
    a = pd.read_csv(path_a, dtype={"credit_code": str, "industry_division": str})
    b = pd.read_csv(path_b, dtype={"credit_code": str, "industry_division": str})
    ka = a.set_index("credit_code")["final_class"]
    kb = b.set_index("credit_code")["final_class"]
    codes = ka.index.union(kb.index)
    ka, kb = ka.reindex(codes).fillna("none"), kb.reindex(codes).fillna("none")
    matrix = pd.crosstab(ka, kb).reindex(index=ORDER, columns=ORDER, fill_value=0)
    town = b.set_index("credit_code")["town"].reindex(codes)
    town = town.fillna(a.set_index("credit_code")["town"].reindex(codes)).fillna("(none)")
    ra, rb = ka.map(RANK), kb.map(RANK)
    shift = pd.Series("t_change", index=codes)
    shift[(ka == "none") & (kb != "none")] = "entered"
    shift[(ka != "none") & (kb == "none")] = "left"
    shift[rb < ra] = "up"
    shift[rb > ra] = "down"
    shift[ka == kb] = "same"
    per_town = pd.crosstab(town, shift)
    land = {side: f.assign(k=f["final_class"].fillna("none")).groupby("k")["land_mu"].sum()
            for side, f in (("a", a), ("b", b))}
    return matrix, set(codes[ka != kb]), per_town, land


def test_compare_agrees_with_the_exported_files_and_what_if_stores_nothing(
        db_conn, db_dsn, tmp_path, monkeypatch, capsys):
    from sample.demo import DemoRun, stage_generate, stage_load, stage_occupancy

    demo = DemoRun(size="small", seed=5, root=tmp_path / "small-5", connect=lambda: db_conn)
    for stage in (stage_generate, stage_load, stage_occupancy):
        stage(demo)
    year = fetch(db_conn, "SELECT max(year) FROM enterprise_year")[0][0]
    runs = [json.loads(_ok(["score", "--ruleset", rs, "--year", str(year), "--json"],
                           monkeypatch, db_dsn, capsys))["run_id"]
            for rs in ("zhejiang-huangyan-2022", "jiangsu-huaian-2024")]
    # an adjustment in run A: the comparison uses the adjusted class
    code, cls = fetch(db_conn, "SELECT trim(credit_code), class FROM enterprise_score"
                               " WHERE run_id = %s AND class IN ('C', 'D') ORDER BY 1 LIMIT 1",
                      (runs[0],))[0]
    _ok(["score", "override", code, "--class", "A", "--reason", "试验调档", "--by", "张三",
         "--run", str(runs[0])], monkeypatch, db_dsn, capsys)
    files = []
    for r in runs:
        files.append(tmp_path / f"run{r}.csv")
        _ok(["score", "export", "--run", str(r), "-o", str(files[-1])], monkeypatch, db_dsn,
            capsys)
    matrix, changed, per_town, land = _independent(*files)

    got = json.loads(_ok(["score", "compare", str(runs[0]), str(runs[1]), "--json"],
                         monkeypatch, db_dsn, capsys))
    assert got["a"]["run_id"] == runs[0] and got["b"]["ruleset"] == "jiangsu-huaian-2024"
    assert got["adjusted"]["a"] == 1 and "调档" in got["class_basis_zh"]
    m = pd.DataFrame(got["matrix"]).T.loc[ORDER, ORDER]
    assert (m.to_numpy() == matrix.to_numpy()).all()
    assert int(np.trace(matrix.to_numpy())) < int(matrix.to_numpy().sum())   # some moved
    assert {r["credit_code"] for r in got["changed_firms"]} == changed
    assert got["changed"] == len(changed)
    exported = pd.read_csv(files[0], dtype={"credit_code": str}).set_index("credit_code")
    assert (exported.loc[code, "class"], exported.loc[code, "final_class"]) == (cls, "A")
    for r in got["changed_firms"]:
        if r["credit_code"] == code:
            assert (r["computed_a"], r["class_a"], r["adjusted_a"]) == (cls, "A", True)
    mine = {r["town"]: r for r in got["by_town"]}
    for town, row in per_town.iterrows():
        for shift, n in row.items():
            assert mine[town][shift] == n, (town, shift)
    by_class = {r["class"]: r for r in got["by_class"]}
    for side in ("a", "b"):
        for k, v in land[side].items():
            assert by_class[k][f"land_{side}"] == pytest.approx(v, rel=1e-6, abs=1e-3)
    moved = [r for r in got["changed_firms"] if r["item_1"] is not None]
    assert moved and all(isinstance(r["points_1"], float) for r in moved)

    # the workbook: changed firms first, then the matrix and the other tables, in Chinese
    xlsx = tmp_path / "compare.xlsx"
    _ok(["score", "compare", str(runs[0]), str(runs[1]), "-o", str(xlsx)], monkeypatch,
        db_dsn, capsys)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:6] == ["档次变化企业", "档次转移矩阵", "各档用地与税收", "各镇街档次变化",
                                 "各行业档次变化", "说明"]
    header = [c.value for c in wb["档次变化企业"][1]]
    assert header[:3] == ["统一社会信用代码", "企业名称", "镇街"]
    assert "影响最大的指标1" in header and wb["档次变化企业"].max_row == len(changed) + 1
    assert wb["档次转移矩阵"]["A2"].value == "A类（优先发展）"
    code_, _out, err = run(["score", "compare", str(runs[0]), str(runs[1]), "-o", str(xlsx)],
                           monkeypatch, db_dsn, capsys)
    assert code_ == 4 and "--overwrite" in err

    # what-if: the same comparison for a rule set not stored, and nothing stored
    before = {t: fetch(db_conn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    db_conn.commit()
    what = json.loads(_ok(["score", "--ruleset", "jiangsu-huaian-2024", "--year", str(year),
                           "--what-if", "--against", str(runs[0]), "--json"],
                          monkeypatch, db_dsn, capsys))
    assert what["b"]["stored"] is False and what["b"]["run_id"] is None
    assert what["matrix"] == got["matrix"] and what["changed"] == got["changed"]
    # against the latest run of the year (run B, the same rule set): nothing moves
    csv = tmp_path / "whatif.csv"
    text = _ok(["score", "--ruleset", "jiangsu-huaian-2024", "--year", str(year), "--what-if",
                "-o", str(csv)], monkeypatch, db_dsn, capsys)
    assert f"运行 {runs[1]}" in text and "档次变化 0 家" in text
    assert len(pd.read_csv(csv)) == 0
    after = {t: fetch(db_conn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    assert after == before
