"""Done when: on the sample, an approved candidate becomes a plot with the parcel's area
to 0.01 m², advances through the pipeline, and a late start after 出让 is reported as a
breach after the next survey (real PostGIS, real files, the real entry point)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from gis.settings import load_settings
from sample import generate_city
from sample.config import AS_OF
from sample.load import load_sample
from scoring.land_status.lifecycle import decide
from scoring.land_status.run import run_candidates
from tests.cli_runner import run_mujun

pytestmark = [pytest.mark.postgis, pytest.mark.slow]

STEPS = [("preparation", "2025-07-10"), ("assessment", "2025-07-20"),
         ("indicators", "2025-08-01"), ("announced", "2025-08-15"),
         ("出让", "2025-09-01"), ("contracted", "2025-09-10")]   # a code or its Chinese name


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return generate_city("small", 5, tmp_path_factory.mktemp("supply") / "city", imagery=False)


def _survey_files(conn, parcel_code, tmp_path):
    """A later survey covering the parcel: one shed outside it, nothing on it."""
    from gis.db.srid import get_working_srid

    srid = get_working_srid(conn)
    wkb = conn.execute("SELECT ST_AsBinary(geom) FROM parcel WHERE parcel_code = %s",
                       (parcel_code,)).fetchone()[0]
    parcel = shapely.from_wkb(bytes(wkb))
    cover = parcel.buffer(25)
    x, y = parcel.buffer(15).exterior.coords[0]
    shed = shapely.box(x - 2, y - 2, x + 2, y + 2)
    assert not shed.intersects(parcel) and cover.contains(shed)
    gpd.GeoDataFrame({"name": ["shed"]}, geometry=[shed], crs=srid).to_file(
        tmp_path / "survey.gpkg")
    gpd.GeoDataFrame({"name": ["cover"]}, geometry=[cover], crs=srid).to_file(
        tmp_path / "cover.gpkg")
    return tmp_path / "survey.gpkg", tmp_path / "cover.gpkg"


def test_approved_candidate_to_plot_to_breach(db_conn, db_dsn, city, tmp_path, monkeypatch,
                                              capsys):
    def mujun(*argv):
        code, out, err = run_mujun([*argv], monkeypatch, db_dsn, capsys, home=tmp_path)
        return code, out, err

    load_sample(db_conn, city)
    settings = load_settings({"home": str(tmp_path)}, environ={})
    run_candidates(db_conn, settings, as_of=AS_OF)
    cid, parcel, _version = db_conn.execute(
        "SELECT candidate_id, parcel_code, version FROM candidate WHERE status = 'new'"
        " ORDER BY candidate_id LIMIT 1").fetchone()

    # a candidate not yet approved cannot become a plot
    code, _, err = mujun("supply", "add", "--from-candidate", str(cid), "--by", "planner")
    # one line (a log record of an earlier in-process run may precede it on a closed stream)
    last = err.strip().splitlines()[-1]
    assert code == 3 and last.startswith("mujun: error: 候选") and "只有「批准收回/盘活」的候选" in last
    for status in ("under_review", "confirmed", "approved"):
        decide(db_conn, cid, status=status, by="official")
    db_conn.commit()

    code, out, err = mujun("supply", "add", "--from-candidate", str(cid), "--industry", "C3311",
                           "--park", "高新园", "--date", "2025-07-01", "--by", "planner", "--json")
    assert code == 0, err
    plot = json.loads(out)
    exact = db_conn.execute("SELECT round(area_m2::numeric, 2) FROM parcel"
                            " WHERE parcel_code = %s", (parcel,)).fetchone()[0]
    assert plot["code"] == parcel and plot["origin"] == "reclaimed"
    assert plot["area_m2"] == pytest.approx(float(exact), abs=0.001)
    assert plot["indicators"]["far_min"] == 1.2 and plot["status"] == "reserve"

    for to, day in STEPS[:4]:
        code, out, err = mujun("supply", "advance", parcel, "--to", to, "--date", day,
                               "--ref", f"文号-{to}", "--by", "planner")
        assert code == 0, err
    # skipping 出让 is refused, and so is a date before the last step
    code, _, err = mujun("supply", "advance", parcel, "--to", "contracted", "--date",
                         "2025-09-10", "--by", "planner")
    assert code == 3 and "下一步应为「出让」" in err
    code, _, err = mujun("supply", "advance", parcel, "--to", "transferred", "--date",
                         "2025-08-01", "--by", "planner")
    assert code == 3 and "早于上一步「公告」的日期 2025-08-15" in err
    for to, day in STEPS[4:]:
        code, out, err = mujun("supply", "advance", parcel, "--to", to, "--date", day,
                               "--by", "planner")
        assert code == 0, err
    # transferred: the candidate's job is done
    assert db_conn.execute("SELECT status FROM candidate WHERE candidate_id = %s",
                           (cid,)).fetchone()[0] == "closed"
    db_conn.rollback()

    code, out, err = mujun("supply", "contract", parcel, "--start-by", "2025-12-31",
                           "--complete-by", "2027-12-31", "--produce-by", "2028-12-31",
                           "--investment", "6000", "--no", "合同-001", "--by", "planner")
    assert code == 0, err

    # before the next survey: the only survey predates the start date, nothing to report
    code, out, err = mujun("supply", "check", "--as-of", "2026-01-15", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["contracts"] == 1 and first["checked"] == 0 and first["breaches"] == 0

    survey, cover = _survey_files(db_conn, parcel, tmp_path)
    code, out, err = mujun("import", "footprints", str(survey), "--date", "2026-03-01",
                           "--coverage", str(cover), "--source", "2026 年一季度影像")
    assert code == 0, err

    code, out, err = mujun("supply", "check", "--as-of", "2026-03-15", "--json")
    assert code == 0, err
    second = json.loads(out)
    assert second["breaches"] == 1 and second["by_rule"]["late_start"] == 1
    assert second["created"] == 1
    row = db_conn.execute("SELECT candidate_id, kind, kinds, reasons FROM candidate"
                          " WHERE parcel_code = %s AND status <> 'closed'", (parcel,)).fetchone()
    assert row[1] == "contract_breach" and "late_start" in row[3]
    db_conn.rollback()

    code, out, err = mujun("candidates", "show", str(row[0]))
    assert code == 0, err
    assert "未按合同约定日期开工" in out and "合同约定 2025-12-31 前开工" in out
    assert "2026-03-01 的影像仍未动工" in out and "合同-001" in out

    # the next rules run keeps the breach (one candidate per parcel)
    run_candidates(db_conn, settings, as_of="2026-03-15")
    kinds = db_conn.execute("SELECT kinds FROM candidate WHERE parcel_code = %s"
                            " AND status <> 'closed'", (parcel,)).fetchall()
    assert len(kinds) == 1 and "contract_breach" in kinds[0][0]
    db_conn.rollback()

    # a stored score run checks the contracts too, on itself, as of today
    code, out, err = mujun("score", "--ruleset", "jiangsu-huaian-2024", "--year", "2024",
                           "--json")
    assert code == 0, err
    scored = json.loads(out)
    after_score = scored["checks"]["contracts"]
    assert after_score["score_run"] == scored["run_id"] and after_score["breaches"] == 1
    assert db_conn.execute("SELECT count(*) FROM candidate WHERE parcel_code = %s"
                           " AND status <> 'closed'", (parcel,)).fetchone()[0] == 1
    db_conn.rollback()

    # the plot shows its contract and history
    code, out, err = mujun("supply", "show", parcel)
    assert code == 0 and "合同" in out and "出让" in out and "文号-announced" in out
