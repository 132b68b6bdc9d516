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
