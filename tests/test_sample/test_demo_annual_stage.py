"""The demo's annual-report stage on the small sample city: a Word report of the scored year."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.postgis, pytest.mark.slow]


def test_stage_writes_the_annual_report_of_the_scored_year(db_conn, tmp_path):
    from docx import Document

    from maps.annual.terms import SECTIONS
    from sample.demo import DemoRun, stage_generate, stage_load, stage_occupancy, stages
    from sample.stages.annual import stage_annual
    from sample.stages.scoring import stage_score

    names = [name for name, _ in stages()]
    assert "annual" in names and names.index("annual") == names.index("maps") + 1
    run = DemoRun(size="small", seed=5, root=tmp_path / "small-5", connect=lambda: db_conn)
    for stage in (stage_generate, stage_load, stage_occupancy):
        stage(run)
    assert stage_annual(run) is None                 # nothing scored yet: nothing to report
    score_run = stage_score(run)["run"]
    out = stage_annual(run)
    assert out["score run"] == score_run
    doc = Document(out["report"])
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == \
        [SECTIONS.label(c) for c in SECTIONS.codes()]
    assert len(doc.inline_shapes) == 3               # one year: no trend chart
    again = stage_annual(run)                        # the demo's own file is replaced
    assert again["report"] == out["report"]
