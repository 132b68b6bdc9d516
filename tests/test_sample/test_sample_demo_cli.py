"""``mujun demo`` end to end through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_runner import mujun_process


def _run(args, home: Path, dsn: str | None, timeout: float = 600):
    return mujun_process(*args, home=home, dsn=dsn, timeout=timeout)


@pytest.mark.slow
def test_demo_small_end_to_end(db_dsn, db_conn, tmp_path):
    """The demo's figures are the database's and the files': counts, accuracy, occupancy."""
    import pyogrio
    import rasterio

    from remote_sensing.tools.assess import assess_files

    home = tmp_path / "home"
    first = _run(["demo", "--size", "small", "--seed", "3", "--json"], home, db_dsn)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    root = home / "demo" / "small-3"
    sample = json.loads((root / "sample.json").read_text(encoding="utf-8"))
    counts = sample["counts"]
    assert data["generated"] is True and data["root"] == str(root)
    assert data["parcels"] == counts["parcels"] and data["buildings"] == counts["buildings"]
    assert (
        data["enterprises"]["large"] + data["enterprises"]["small"] == data["enterprises"]["total"]
    )
    assert data["parcel_area"]["mu"] == pytest.approx(
        data["parcel_area"]["m2"] / (10000 / 15), rel=1e-6
    )
    load, extract, occ = (data["stages"][k] for k in ("load", "extract", "occupancy"))
    assert load["loaded"] is True and load["true_outlines"] is False

    # extraction accuracy as reported = an independent assessment of the files
    fp_path = root / "extracted" / "footprints.gpkg"
    check = assess_files(fp_path, root / "buildings.gpkg")
    assert extract["footprints"] == len(pyogrio.read_dataframe(fp_path)) == check["n_pred"]
    assert extract["f1"] == pytest.approx(check["f1"], abs=1e-12)
    assert extract["built_area_error"] == pytest.approx(check["built_area_error"], abs=1e-12)
    assert extract["true_buildings"] == counts["buildings"]
    assert extract["f1"] >= 0.95 and abs(extract["built_area_error"]) <= 0.02

    with db_conn as conn:  # db_conn also empties the database after the test
        conn.rollback()
        n_parcels = conn.execute("SELECT count(*) FROM parcel").fetchone()[0]
        sources = conn.execute(
            "SELECT source, count(*), sum(area_m2) FROM footprint GROUP BY source").fetchall()
        batches = conn.execute(
            "SELECT kind, count(*) FROM import_batch GROUP BY kind ORDER BY kind").fetchall()
        marked = conn.execute("SELECT params ->> 'mujun_demo' FROM import_batch"
                              " WHERE kind = 'footprints'").fetchall()
        stored = conn.execute("SELECT sum(built_m2), sum(sliver_m2) FROM occupancy"
                              " WHERE run_id = %s", (occ["run"],)).fetchone()
        # what the footprints cover inside each parcel (overlaps once) = built + slivers
        covered = conn.execute(
            "SELECT sum(ST_Area(ST_Intersection(p.geom, u.geom))) FROM parcel p"
            " CROSS JOIN LATERAL (SELECT ST_Union(f.geom) AS geom FROM footprint f"
            "   WHERE f.geom && p.geom AND ST_Intersects(f.geom, p.geom)) u").fetchone()[0]
    assert n_parcels == counts["parcels"]
    # only extracted footprints are in the table (the true outlines stayed in the files),
    # loaded as `footprints extract --load` loads them (source: the image), marked as the demo's
    assert len(sources) == 1 and sources[0][0] == "rgbn"
    assert marked == [("sample small-3",)]
    assert sources[0][1] == extract["footprints"] == extract["load"]["footprints"]
    assert dict(batches) == {"footprints": 1, "sample": 4}
    assert occ["footprints"] == "extracted"
    assert occ["built_m2"] == pytest.approx(stored[0], rel=1e-12)
    assert stored[0] + stored[1] == pytest.approx(covered, rel=1e-6)
    assert stored[1] < 0.01 * stored[0]
    assert occ["built_m2"] == pytest.approx(counts["built_area_m2"], rel=0.03)

    # a second run does no work (the sample, its extraction and its load are reused) and
    # its text report carries the same figures
    text = _run(["demo", "--size", "small", "--seed", "3"], home, db_dsn)
    assert text.returncode == 0, text.stderr
    assert f"F1 {extract['f1']:.3f}" in text.stdout
    assert f"built area {100 * extract['built_area_error']:+.2f} %" in text.stdout
    assert f"{occ['buildings']:,} buildings, built {occ['built_m2']:,.0f} m²" in text.stdout
    assert "(already there, reused)" in text.stdout
    assert "already loaded, nothing to do" in text.stdout
    assert "; the earlier extraction, reused; already loaded" in text.stdout

    # the imagery renders the buildings: high in the nDSM at a building's centre
    buildings = pyogrio.read_dataframe(root / "buildings.gpkg")
    big = buildings[buildings["kind"] == "workshop"].iloc[:50]
    with rasterio.open(data["files"]["ndsm"]) as src:
        points = [(p.x, p.y) for p in big.geometry.representative_point()]
        values = np.array([v[0] for v in src.sample(points)])
    assert np.median(values - big["height_m"].to_numpy()) == pytest.approx(0, abs=1.0)


@pytest.mark.slow
def test_demo_no_load_needs_no_database_and_refuses_foreign_folder(tmp_path):
    home = tmp_path / "home"
    unreachable = "host=127.0.0.1 port=1 dbname=nothing connect_timeout=1"
    out = tmp_path / "sample"
    result = _run(
        ["demo", "--no-load", "--seed", "4", "--out", str(out), "--json"], home, unreachable
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["stages"]["load"] == {"loaded": False, "skipped": True}
    assert (out / "parcels.gpkg").is_file()

    clash = _run(["demo", "--no-load", "--seed", "5", "--out", str(out)], home, unreachable)
    assert clash.returncode == 4
    assert "holds the sample small-4" in clash.stderr

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    refused = _run(["demo", "--no-load", "--out", str(foreign)], home, unreachable)
    assert refused.returncode == 4 and "not a complete sample" in refused.stderr


def test_stale_sample_is_regenerated_current_one_reused(tmp_path, monkeypatch):
    import sample.generate as generate
    from sample.config import GENERATOR_VERSION
    from sample.demo import DemoRun, stage_generate

    root = tmp_path / "small-1"
    root.mkdir()
    old = generate.SampleCity(root=root, size="small", seed=1, generator_version=0)
    (root / generate.MARKER).write_text(json.dumps(old.to_json()), encoding="utf-8")
    calls = []

    def fake_generate(size, seed, out_dir, *, progress=None, overwrite=False, imagery=None):
        calls.append(overwrite)
        city = generate.SampleCity(root=Path(out_dir), size=size, seed=seed)
        (Path(out_dir) / generate.MARKER).write_text(json.dumps(city.to_json()), encoding="utf-8")
        return city

    monkeypatch.setattr(generate, "generate_city", fake_generate)
    result = stage_generate(DemoRun(size="small", seed=1, root=root, load=False))
    assert result["generated"] is True and calls == [True]
    assert generate.SampleCity.load(root).generator_version == GENERATOR_VERSION
    again = stage_generate(DemoRun(size="small", seed=1, root=root, load=False))
    assert again["generated"] is False and calls == [True]
