"""One vocabulary for every label a user reads, and evidence an official can read.

* the machinery (:mod:`gis.vocabulary`) refuses malformed terms files and a domain claimed
  by two owners;
* map legends, QGIS styles, the review app's strings and the report use the vocabulary's
  words;
* no user-facing source (pages, scripts, Python renderers) writes a land-status label by
  hand — today's words or the variants that had drifted apart (未建成, 批而未建完, 已结案);
* :func:`scoring.land_status.explain.explain` turns real candidates of the sample rules
  into labelled lines with units and thresholds, and no raw key or JSON.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from gis.errors import ConfigError, DataError
from gis.vocabulary import parse_terms, register, registered, vocabulary
from scoring.land_status import vocabulary as terms

REPO = Path(__file__).resolve().parents[2]
#: Other words that contain a label (the name of a policy document).
NOT_LABELS = ("城镇低效用地再开发",)
#: Words that were used for the same codes before there was one vocabulary.
DRIFTED = ("未建成", "批而未建完", "已结案", "闲置(未动工)", "闲置(停工)", "闲置（停工）",
           "闲置（未动工）", "已批准处置", "闲置土地(未动工)")


def test_terms_files_are_checked():
    with pytest.raises(ConfigError, match="needs code, zh and en"):
        parse_terms({"x.kind": [{"code": "a", "zh": "甲"}]}, "t.yaml")
    with pytest.raises(ConfigError, match="given twice"):
        parse_terms({"x.kind": [{"code": "a", "zh": "甲", "en": "a"},
                                {"code": "a", "zh": "乙", "en": "b"}]}, "t.yaml")
    with pytest.raises(ConfigError, match="unknown keys colour"):
        parse_terms({"x.kind": [{"code": "a", "zh": "甲", "en": "a", "colour": "red"}]},
                    "t.yaml")
    with pytest.raises(ConfigError, match=r"already registered by scoring\.land_status"):
        register("someone.else", terms.TERMS_FILE)
    with pytest.raises(ConfigError, match="no vocabulary 'nope'"):
        vocabulary("nope")
    assert vocabulary("land_status.kind") is terms.KINDS
    assert set(terms.ALL) <= set(registered())


def test_every_code_the_code_uses_has_words():
    from maps.review.queries import SORTS
    from scoring.land_status.lifecycle import STATUSES, TRANSITIONS
    from scoring.land_status.rules import KINDS

    assert terms.KINDS.codes() == KINDS and terms.STATUSES.codes() == STATUSES
    assert tuple(SORTS) == terms.SORTS.codes()
    assert set(TRANSITIONS) == set(terms.STATUSES.codes())
    # the labels of one domain never repeat (an official could not tell two apart)
    for vocab in terms.ALL.values():
        assert len({t.zh for t in vocab}) == len(vocab), vocab.domain
    with pytest.raises(DataError, match="已实际使用（in_use）"):
        terms.REASONS.check("because", what="理由")


def test_legends_qgis_styles_app_and_report_say_the_vocabulary_s_words(tmp_path):
    from maps.qml import to_qml
    from maps.review.i18n import table
    from maps.styles import style_for
    from scoring.land_status.report import report_rows

    for layer, vocab in (("candidates", terms.KINDS), ("land_status", terms.STATUSES)):
        style = style_for(layer)
        for lang in ("zh", "en"):
            assert [label for _, label in style.legend(lang)] == list(
                vocab.labels(lang).values())
        assert all(t.zh in to_qml(style, {}) for t in vocab)
    for lang in ("zh", "en"):
        t = table(lang)
        for prefix, vocab in (("k_", terms.KINDS), ("s_", terms.STATUSES),
                              ("r_", terms.REASONS), ("o_", terms.SORTS)):
            assert {c: t[prefix + c] for c in vocab.codes()} == vocab.labels(lang)
    import pandas as pd

    rows = report_rows(pd.DataFrame([{
        "candidate_id": 1, "parcel_code": "P", "kind": "unfinished", "status": "closed",
        "town": None, "district": None, "area_m2": 1000.0, "reclaimable_m2": 10.0,
        "certainty": 0.5, "priority": 1.0, "updated_at": None, "evidence": {}, "rules": []}]))
    assert rows.loc[0, "kind_name"] == "未竣工" and rows.loc[0, "status_name"] == "已关闭"


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """String literals of a Python file, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings]


def _user_facing_sources() -> list[Path]:
    files = [p for p in (REPO / "maps").rglob("*.py") if "node_modules" not in p.parts]
    files += [p for p in (REPO / "scoring" / "land_status").rglob("*.py")
              if p.name != "vocabulary.py"]
    files += [p for p in (REPO / "maps").rglob("*") if p.suffix in (".js", ".html", ".qml")
              and "node_modules" not in p.parts]
    return files


def test_no_user_facing_source_writes_a_land_status_label_by_hand():
    """Every kind, status and reason a user reads comes from the vocabulary."""
    words = set(DRIFTED)
    for vocab in (terms.KINDS, terms.STATUSES, terms.REASONS, terms.ACTIONS):
        words |= {t.zh for t in vocab}
    found = []
    for path in _user_facing_sources():
        if path.suffix == ".py":
            texts = _string_constants(path)
        else:
            texts = list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))
        for line, text in texts:
            for phrase in NOT_LABELS:
                text = text.replace(phrase, "")
            hits = sorted(w for w in words if w in text)
            if hits:
                found.append(f"{path.relative_to(REPO)}:{line}: {hits}")
    assert not found, "labels written by hand (use scoring.land_status.vocabulary):\n" + \
        "\n".join(found)


def test_the_page_script_shows_no_code_as_text():
    """The review page's script puts codes on screen only through the vocabulary's labels."""
    js = (REPO / "maps" / "review" / "static" / "app.js").read_text(encoding="utf-8")
    # option lists of codes get their words from the vocabulary (k_/s_/r_/o_ prefixes;
    # appeals: ak_/as_ from scoring/policy/terms.yaml)
    for call in re.findall(r"fillSelect\(([^;]*)\);", js):
        if any(k in call for k in ("kinds", "statuses", "sorts", "reasons", "under_review")):
            assert re.search(r'"(k|s|r|o|ak|as)_"$', call.strip()), call
    assert "JSON.stringify(r)" not in js and "kvTable" not in js
    for code in ("right_type", "reason_code", "action"):
        shown = re.findall(rf'el\("td", \{{[^}}]*\}}, (?:h|e)\.{code}\s*(?:\)|\|\|)', js)
        assert not shown, f"{code} shown raw: {shown}"


@pytest.mark.postgis
def test_evidence_of_real_candidates_reads_as_labelled_lines(town, tmp_path):
    """The sample rules' candidates, through the one renderer: words, units, thresholds."""
    from gis.settings import load_settings
    from scoring.land_status.explain import explain
    from scoring.land_status.run import run_candidates
    from scoring.land_status.store import get_candidate

    conn, *_ = town
    run_candidates(conn, load_settings({"home": str(tmp_path)}, environ={}),
                   as_of="2024-12-31")
    rows = conn.execute("SELECT candidate_id, parcel_code FROM candidate").fetchall()
    by_code = {code: get_candidate(conn, cid) for cid, code in rows}
    rule_words = {t.zh for t in terms.RULES}
    for code, cand in by_code.items():
        for lang in ("zh", "en"):
            ex = explain(cand, lang)
            lines = [*ex.checks, *ex.facts]
            assert ex.checks and ex.facts, code
            text = "\n".join(ex.text(lang))
            assert "{" not in text and "_m2" not in text and "far_min" not in text, text
            assert not re.search(r"\b(True|False|None|nan)\b", text), text
            assert all(line.text for line in lines), code
        zh = explain(cand)
        assert {c.label for c in zh.checks} <= rule_words
        assert zh.title == f"判定为「{terms.KINDS.label(cand['kind'])}」所检验的规则"

    unfinished = explain(by_code["UNFIN"])
    finish = next(c for c in unfinished.checks if c.key == "after_agreed_completion")
    years = (dt.date(2024, 12, 31) - dt.date(2024, 6, 30)).days / 365.25
    assert finish.text == f"约定竣工 2024-06-30，已超 {years:.1f} 年" and finish.passed
    facts = {f.key: f.text for f in unfinished.facts}
    assert facts["agreed_finish"] == "2024-06-30" and facts["as_of"] == "2024-12-31"
    assert facts["area_m2"] == "10,000.0 平方米（15.00 亩）"
    assert facts["coverage"].endswith("%")

    ineff = explain(by_code["INEFF"])
    far = next(c for c in ineff.checks if c.key == "far_below_industry_minimum")
    assert re.fullmatch(r"容积率 0\.50 < 控制指标 1\.00（2008 版，行业 \d+）", far.text), far.text
    assert far.reason and far.passed

    stalled = explain(by_code["STALLED"])
    growth = next(c for c in stalled.checks if c.key == "no_growth_m2")
    assert re.fullmatch(r"期间新增建筑 [\d,.]+ 平方米 ≤ 20\.0 平方米", growth.text), growth.text

    unused = explain(by_code["UNUSED"])
    assert unused.enterprises.header[:2] == ("企业名称", "统一社会信用代码")
    assert any(h == "税收（万元）" for h in unused.enterprises.header)
    status_col = unused.enterprises.header.index("经营状态")
    assert {r[status_col] for r in unused.enterprises.rows} <= {
        t.zh for t in terms.HOLDER_STATUSES}
    assert unused.history.rows[0][2] == "规则发现" and "→ 新发现" in unused.history.rows[0][3]
