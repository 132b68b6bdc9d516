"""`score explain` shows the class rule the kernel stored in the vocabulary's words, for
every way a rule set can give classes (so a change of the stored text cannot slip back
to English unnoticed)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from scoring.explain import class_rule_zh
from scoring.kernel import class_rule_text
from scoring.ruleset import load_ruleset, preset_names
from scoring.ruleset_model import TIE_RULES
from scoring.vocabulary import CLASS_TIES, CLASS_WITHIN

ENGLISH = re.compile(r"[a-zA-Z]{2,}")


def test_every_tie_rule_and_scope_has_its_words():
    assert [t.code for t in CLASS_TIES.terms] == list(TIE_RULES)
    assert [t.code for t in CLASS_WITHIN.terms] == ["county", "town"]


@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("within", ["county", "town"])
@pytest.mark.parametrize("ties", list(TIE_RULES))
def test_the_stored_class_rule_reads_in_chinese(name, within, ties):
    rs = load_ruleset(name)
    quota = dataclasses.replace(rs, classes=dataclasses.replace(
        rs.classes, method="quota", within=within, ties=ties,
        quotas={"A": 0.2, "B": 0.4, "C": 0.3, "D": 0.1}))
    stored = class_rule_text(quota) + ": position 3 of 7"      # as scoring.records adds it
    words = class_rule_zh(stored)
    assert not ENGLISH.search(words), words
    assert "第 3 名，共 7 家" in words and CLASS_TIES.label(ties) in words
    assert CLASS_WITHIN.label(within) in words
    cut = dataclasses.replace(rs, classes=dataclasses.replace(
        rs.classes, method="cutoff", cutoffs={"A": 85.0, "B": 70.5, "C": 60.0}))
    assert class_rule_zh(class_rule_text(cut)) == "按分数线定档：A ≥ 85 分，B ≥ 70.5 分，C ≥ 60 分，其余 D"


def test_every_reason_the_kernel_gives_reads_in_chinese():
    """Not evaluated, class T and adjustment reasons, made by the kernel itself, shown in
    ``score explain`` and the notice with no English left (a user's own reason stays)."""
    import pandas as pd

    from scoring.explain import reason_text
    from scoring.kernel import score_year
    from tests.test_scoring.test_kernel import frame

    rs = load_ruleset("jiangsu-huaian-2024")
    f = frame(11, tax=[500.0] * 11)
    f.loc[0, "industry_division"] = "44"
    f.loc[1, "is_utility"] = True
    f.loc[2, "established_date"] = pd.Timestamp("2021-09-01")
    f.loc[3, "supply_date"] = pd.Timestamp("2020-06-01")
    f.loc[4, "status"] = "relocated"
    f.loc[8, "land_m2"] = 0.0
    f.loc[9, ["size_class", "land_m2", "floor_m2"]] = ["small", 2.0 * 666.67, 1000.0]
    f.loc[10, "size_class"] = "unknown"
    adj = pd.DataFrame({"credit_code": f.loc[5:7, "credit_code"].tolist() * 2,
                        "kind": ["veto", "bonus", "exempt", "penalty", "penalty", "bonus"],
                        "points": [0.0, 3.0, 0.0, 2.0, 1.5, 0.5],
                        "reason": ["安全事故", "高新技术企业", "搬迁", "", "欠税", "研发"]})
    r = score_year(rs, f, 2022, adj).frame
    reasons = [v for col in ("not_evaluated", "t_reason", "protection", "veto_reason", "adjust_reason")
               if col in r for v in r[col] if isinstance(v, str) and v]
    assert len(reasons) >= 10
    for text in reasons:
        words = reason_text(text)
        assert not ENGLISH.search(words), (text, words)
