"""The sample city's dirty inputs: every defect listed in dirty/MANIFEST.json is reported."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import run_mujun as run

#: MANIFEST kind -> the check name the import reports it under.
KIND_TO_CHECK = {
    "self_intersection": "repaired",
    "duplicate_code": "duplicate_code",
    "overlap": "overlap",
    "code_format": "code_format",
    "empty_geometry": "empty_geometry",
    "degenerate": "degenerate",
    "malformed_code": "credit_code_malformed",
    "normalisable_code": "credit_code_normalised",
    "checksum": "credit_code_checksum",
    "negative_value": "negative_value",
    "absurd_value": "absurd_value",
    "missing_required": "missing_field",
    "duplicate_row": "duplicate_row",
    "unknown_parcel": "unknown_parcel",
    "unknown_enterprise": "unknown_enterprise",
    "share_sum": "share_sum",
    "end_before_start": "date_order",
}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from sample.generate import generate_city

    return generate_city("small", 11, tmp_path_factory.mktemp("city") / "sample", imagery=False)


def batch_issues(conn, kind):
    conn.rollback()
    (report,) = conn.execute("SELECT report FROM import_batch WHERE kind = %s ORDER BY batch_id "
                             "DESC LIMIT 1", (kind,)).fetchone()
    conn.rollback()
    assert report["issues_truncated"] == 0
    return report["issues"]


def assert_found(defect, issues):
    check = KIND_TO_CHECK[defect["kind"]]
    row = defect["feature"] + 1 if "feature" in defect else defect["row"]
    parts = defect["key"].split("/")
    hits = [i for i in issues if i["check"] == check and (
        i["row"] == row or any(p and p in i["message"] for p in parts))]
    assert hits, f"defect not reported: {defect}"


def test_every_planted_defect_is_reported(city, tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    dirty = city.paths["dirty"]
    manifest = json.loads((dirty / "MANIFEST.json").read_text(encoding="utf-8"))
    by_file: dict[str, list] = {}
    for d in manifest["defects"]:
        by_file.setdefault(d["file"], []).append(d)

    code, _, err = run(["import", "parcels", str(dirty / "parcels.shp")], monkeypatch, db_dsn,
                       capsys)
    assert code == 3 and "未写入任何数据" in err
    monkeypatch.chdir(tmp_path)  # rejects go to the working directory
    code, out, err = run(["import", "parcels", str(dirty / "parcels.shp"), "--accept-partial",
                          "--rejects", str(tmp_path / "p.csv"), "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["srid"] == 4549  # EPSG:4528 input, Suzhou's zone chosen
    issues = batch_issues(db_conn, "parcels")
    for defect in by_file["parcels.shp"]:
        assert_found(defect, issues)
    db_conn.rollback()
    towns = {r[0] for r in db_conn.execute("SELECT DISTINCT town FROM parcel").fetchall()}
    assert all(t and t.endswith(("镇", "街道")) for t in towns), towns  # GBK decoded
    mapped = db_conn.execute(
        "SELECT count(*) FILTER (WHERE agreed_start_date IS NULL OR agreed_finish_date IS NULL "
        "OR supply_date IS NULL OR cert_area_m2 IS NULL OR land_use_code IS NULL), count(*) "
        "FROM parcel").fetchone()
    assert mapped[0] == 0 and mapped[1] > 300  # every Chinese field mapped
    db_conn.rollback()

    year = manifest["files"]["enterprises_2023.csv"]["year"]
    code, out, err = run(["import", "enterprises", str(dirty / "enterprises_2023.csv"),
                          "--year", str(year), "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["n_rejected"] == 0

    year = manifest["files"]["enterprises.xlsx"]["year"]
    code, out, err = run(["import", "enterprises", str(dirty / "enterprises.xlsx"), "--year",
                          str(year), "--accept-partial", "--rejects", str(tmp_path / "e.csv"),
                          "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["units"]["electricity_kwh"] == "万千瓦时"
    issues = batch_issues(db_conn, "enterprises")
    for defect in by_file["enterprises.xlsx"]:
        assert_found(defect, issues)

    code, out, err = run(["import", "land-rights", str(dirty / "land_rights.csv"),
                          "--accept-partial", "--rejects", str(tmp_path / "l.csv"), "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    issues = batch_issues(db_conn, "land_rights")
    for defect in by_file["land_rights.csv"]:
        assert_found(defect, issues)
