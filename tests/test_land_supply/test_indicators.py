"""Control-indicator tables: YAML and CSV through the one rule-file helper."""

from __future__ import annotations

import pytest

from scoring.land_status.supply.errors import IndicatorTableError
from scoring.land_status.supply.indicators import TEMPLATE, load_table, lookup
from scoring.land_status.supply.vocabulary import INDICATORS


def test_the_bundled_template_says_its_figures_are_examples():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "EXAMPLE" in text and "示例" in load_table().name
    # every indicator of the vocabulary is documented in the template
    assert all(code in text for code in INDICATORS.codes())


def test_the_longest_code_wins(tmp_path):
    p = tmp_path / "county.yaml"
    p.write_text('version: 1\nname: 本县\nedition: "2025"\nindustries:\n'
                 '  "33": {far_min: 1.0}\n  "331": {far_min: 1.3}\n', encoding="utf-8")
    t = load_table(p)
    assert lookup(t, "C3311")["far_min"] == 1.3 and lookup(t, "3399")["far_min"] == 1.0
    assert t.label == "本县 2025"


def test_an_unknown_industry_names_the_table_and_its_codes():
    with pytest.raises(IndicatorTableError, match=r"行业 C1711 不在控制指标表.*13、26、33"):
        lookup(load_table(), "C1711")
    with pytest.raises(IndicatorTableError, match="不是 GB/T 4754-2017"):
        lookup(load_table(), "纺织")


def test_a_csv_table_names_the_row_of_a_bad_figure(tmp_path):
    p = tmp_path / "县指标.csv"
    p.write_text("industry,name,far_min,far_max,coverage_min,edition\n"
                 "13,农副食品,1.0,2.5,0.4,2025版\n"
                 "33,金属制品,1.2,3.0,1.4,2025版\n", encoding="utf-8")
    with pytest.raises(IndicatorTableError, match=r"line 3, industries\.33\.coverage_min"):
        load_table(p)
    p.write_text("industry,name,far_min,far_max,edition\n13,农副食品,1.0,2.5,2025版\n"
                 "33,金属制品,2.0,1.5,2025版\n", encoding="utf-8")
    with pytest.raises(IndicatorTableError, match=r"line 3.*far_min 2\.0 is above far_max 1\.5"):
        load_table(p)
    p.write_text("industry,name,far_min\n33,金属制品,1.2\n", encoding="utf-8")
    t = load_table(p)
    assert t.name == "县指标" and lookup(t, "3311")["far_min"] == 1.2


def test_a_gbk_csv_is_read(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("industry,name,far_min\n33,金属制品业,1.2\n".encode("gbk"))
    assert load_table(p).industries["33"]["name"] == "金属制品业"
