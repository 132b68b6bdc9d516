"""The demo's scoring stage on the small sample city: a stored run, class counts per town."""

from __future__ import annotations

import pytest

from tests.cli_runner import fetch

pytestmark = [pytest.mark.postgis, pytest.mark.slow]


def test_stage_scores_the_sample_city_and_counts_classes_per_town(db_conn, tmp_path):
    from sample.demo import DemoRun, stage_generate, stage_load, stage_occupancy, stages
    from sample.stages.scoring import stage_score

    assert stage_score.order == 50
    assert "score" in [name for name, _ in stages()]          # registered as an entry point
    run = DemoRun(size="small", seed=5, root=tmp_path / "small-5", connect=lambda: db_conn)
    for stage in (stage_generate, stage_load, stage_occupancy):
        stage(run)
    out = stage_score(run)
    run_id = out["run"]
    per_town = dict(((t, k), n) for t, k, n in fetch(
        db_conn, "SELECT town, class, count(*) FROM enterprise_score WHERE run_id = %s"
                 " AND class IS NOT NULL GROUP BY 1, 2", (run_id,)))
    towns = {t for t, _ in per_town}
    assert len(towns) >= 2
    lines = out["classes per town"].strip().splitlines()
    assert len(lines) == len(towns)
    for line in lines:
        town = line.split()[0]
        for k in "ABCDT":
            assert f"{k} {per_town.get((town, k), 0):>4,}" in line
    # the sample's young firms (registered within 2 years) are class T
    young = fetch(db_conn, "SELECT count(*) FROM enterprise_score s JOIN enterprise e"
                           " USING (credit_code) WHERE s.run_id = %s AND s.population IS NOT NULL"
                           " AND e.established_date > make_date(s.year - 2, 12, 31)"
                           " AND s.class <> 'T'", (run_id,))
    assert young == [(0,)]
