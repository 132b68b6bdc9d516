"""The comparison kernel on hand-made and generated score tables (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.compare import CLASS_ORDER, SHIFT_ORDER, compare_tables, shifts
from scoring.ruleset_model import CLASSES

CODES = [f"91330000MA{i:08d}" for i in range(40)]


def test_classes_follow_the_rule_sets_then_t_and_not_evaluated():
    from scoring.vocabulary import CLASSES as WORDS

    assert CLASS_ORDER[:4] == CLASSES and CLASS_ORDER[4:] == ("T", "none")
    assert WORDS.codes() == CLASS_ORDER


def test_known_answer_with_an_adjustment_and_firms_on_one_side():
    a = pd.DataFrame({"credit_code": ["X", "Y", "Z", "W"], "name": ["甲", "乙", "丙", "丁"],
                      "town": ["东城", "东城", "西城", "西城"],
                      "industry_division": ["34", "34", "13", "13"],
                      "class": ["A", "C", "D", None], "adjusted_class": [None, None, "C", None],
                      "final_class": ["A", "C", "C", None], "total": [90.0, 60.0, 40.0, None],
                      "land_mu": [10.0, 20.0, 5.0, 1.0], "tax_wan": [100.0, 50.0, 5.0, None],
                      "score_tax": [40.0, 20.0, 10.0, None], "score_power": [30.0, 25.0, 20.0, None]})
    b = pd.DataFrame({"credit_code": ["X", "Y", "Z", "V"], "name": ["甲", "乙", "丙", "戊"],
                      "town": ["东城", "东城", "西城", "北城"],
                      "industry_division": ["34", "34", "13", "26"],
                      "class": ["B", "C", "D", "T"], "adjusted_class": [None, None, None, None],
                      "final_class": ["B", "C", "D", "T"], "total": [70.0, 61.0, 41.0, None],
                      "land_mu": [10.0, 20.0, 5.0, 2.0], "tax_wan": [100.0, 50.0, 5.0, 1.0],
                      "score_tax": [25.0, 20.0, 10.0, None], "score_rd": [5.0, 3.0, 1.0, None]})
    c = compare_tables(a, b, item_labels={"tax": "亩均税收", "power": "单位电耗增加值"})
    m = c.matrix
    assert (m.loc["A", "B"], m.loc["C", "C"], m.loc["C", "D"], m.loc["none", "none"]) \
        == (1, 1, 1, 1)
    assert m.loc["none", "T"] == 1 and m.loc["total", "total"] == 5 == c.firms
    assert c.changed_count == 3 and c.adjusted == {"a": 1, "b": 0}
    ch = c.changed.set_index("credit_code")
    assert ch.loc["X", "shift"] == "down" and ch.loc["Z", "shift"] == "down"
    assert "W" not in ch.index and ch.loc["V", "shift"] == "entered"  # none → none
    # X: power 30 → absent (−30), tax 40 → 25 (−15), rd absent → 5 (+5)
    assert [ch.loc["X", f"item_{k}"] for k in (1, 2, 3)] == ["单位电耗增加值", "亩均税收", "rd"]
    assert [ch.loc["X", f"points_{k}"] for k in (1, 2, 3)] == [-30.0, -15.0, 5.0]
    assert ch.loc["Z", "computed_a"] == "D" and ch.loc["Z", "class_a"] == "C"
    assert bool(ch.loc["Z", "adjusted_a"]) and ch.loc["X", "total_change"] == -20.0
    town = c.by_town.set_index("town")
    assert town.loc["东城", ["firms", "down", "same"]].tolist() == [2, 1, 1]
    assert town.loc["西城", ["down", "same"]].tolist() == [1, 1]
    assert town.loc["北城", "entered"] == 1
    cls = c.by_class.set_index("class")
    assert cls.loc["C", ["firms_a", "land_a", "tax_a"]].tolist() == [2, 25.0, 55.0]
    assert cls.loc["C", "tax_per_mu_a"] == 2.2
    assert cls.loc["B", ["firms_b", "land_b", "tax_b"]].tolist() == [1, 10.0, 100.0]
    assert cls.loc["total", "firms_a"] == 4 and cls.loc["total", "firms_b"] == 4


def test_shift_codes():
    a = pd.Series(["A", "B", "C", "none", "T", "T", "none", "D"])
    b = pd.Series(["A", "A", "D", "D", "B", "none", "none", "T"])
    assert shifts(a, b).tolist() == ["same", "up", "down", "entered", "t_change", "left",
                                     "same", "t_change"]


tables = st.lists(st.tuples(st.sampled_from(range(len(CODES))),
                            st.sampled_from((*CLASS_ORDER[:5], None)),
                            st.floats(0, 50), st.floats(0, 100)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(tables, tables)
def test_matrix_agrees_with_a_crosstab_and_changed_firms_are_off_the_diagonal(ra, rb):
    def frame(rows):
        seen = {}
        for i, k, land, pts in rows:
            seen[CODES[i]] = (k, land, pts)
        return pd.DataFrame({"credit_code": list(seen), "class": [v[0] for v in seen.values()],
                             "final_class": [v[0] for v in seen.values()],
                             "town": "镇", "land_mu": [v[1] for v in seen.values()],
                             "score_x": [v[2] for v in seen.values()]})

    a, b = frame(ra), frame(rb)
    c = compare_tables(a, b)
    codes = sorted(set(a["credit_code"]) | set(b["credit_code"]))
    ka = a.set_index("credit_code")["class"].reindex(codes).fillna("none")
    kb = b.set_index("credit_code")["class"].reindex(codes).fillna("none")
    expect = pd.crosstab(ka, kb).reindex(index=list(CLASS_ORDER), columns=list(CLASS_ORDER),
                                         fill_value=0)
    got = c.matrix.loc[list(CLASS_ORDER), list(CLASS_ORDER)]
    assert (got.to_numpy() == expect.to_numpy()).all()
    off = int(got.to_numpy().sum() - np.trace(got.to_numpy()))
    assert off == c.changed_count == len(c.changed)
    assert set(c.changed["credit_code"]) == set(ka.index[ka != kb])
    assert c.by_town[list(SHIFT_ORDER)].to_numpy().sum() == len(codes)
    land = c.by_class.set_index("class")["land_a"]
    if len(a):                                     # land per class is rounded to 1e-4 mu
        assert np.isclose(land.loc["total"], a["land_mu"].sum(), atol=1e-3)


def test_a_comparison_file_is_a_table(tmp_path):
    from gis.errors import ConfigError
    from scoring.compare_file import write_comparison

    one = pd.DataFrame({"credit_code": ["X"], "class": ["A"], "final_class": ["A"]})
    c = compare_tables(one, one)
    with pytest.raises(ConfigError, match=r"只能写成 \.xlsx 或 \.csv"):
        write_comparison(c, tmp_path / "compare.gpkg")
    out = write_comparison(c, tmp_path / "compare.csv")
    assert out["rows"] == 0 and (tmp_path / "compare.csv").exists()


def test_what_if_options_need_what_if(monkeypatch, capsys):
    from tests.cli_runner import run_mujun

    code, _out, err = run_mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2024",
                                 "--against", "3"], monkeypatch, None, capsys)
    assert code == 2 and "--what-if" in err and "Traceback" not in err
