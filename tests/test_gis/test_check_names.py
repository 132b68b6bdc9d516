"""Every check an import can report has a Chinese name in the one vocabulary.

The checks are found in the source itself: any call whose arguments hold a check code
followed by a severity (``report.add(row, "overlap", "error", …)``), so a new check
without a name fails here rather than showing its code to a technician.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

from gis.importing.report import ImportReport, check_label, rejects_csv_text, severity_label

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gis", "parcels", "remote_sensing", "scoring", "maps", "sample")
SEVERITIES = {"error", "warning", "info"}


def reported_checks() -> dict[str, str]:
    found: dict[str, str] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                texts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str)
                         else None for a in node.args]
                for code, severity in itertools.pairwise(texts):
                    if code and severity in SEVERITIES and code.isidentifier():
                        found.setdefault(code, str(path.relative_to(ROOT)))
    return found


def _register_every_floor() -> None:
    import parcels.vocabulary  # noqa: F401
    from scoring.policy.terms import vocabularies

    vocabularies()


def test_the_scan_finds_the_known_checks():
    found = reported_checks()
    assert {"overlap", "duplicate_credit_code", "far_from_stored", "refund_exceeds"} <= set(found)


@pytest.mark.parametrize("check", sorted(reported_checks()))
def test_every_reported_check_has_a_chinese_name(check):
    _register_every_floor()
    name = check_label(check)
    assert name != check, f"{check} ({reported_checks()[check]}) has no name in a terms file"
    assert re.search(r"[\u4e00-\u9fff]", name), name


def test_the_rejects_file_speaks_chinese():
    _register_every_floor()
    report = ImportReport(unit="row")
    report.add(4, "duplicate_credit_code", "error", "repeats row 2", "credit_code", "X")
    report.add(4, "rounded", "warning", "rounded to 2 places", "tax_wan", "1.234")
    lines = rejects_csv_text(report).splitlines()
    assert lines == ["行号,级别,检查项,字段,值,原因",
                     "4,错误,统一社会信用代码重复且数据不同,credit_code,X,repeats row 2",
                     "4,警告,数值已取整,tax_wan,1.234,rounded to 2 places"]
    assert severity_label("info") == "提示"
