"""Runs stored in PostGIS, identical re-runs never duplicate, exports, the CLI and dask."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import affinity, box

from gis.db.copy import copy_frame
from gis.db.srid import set_working_srid
from gis.errors import DataError, OutputExistsError
from gis.settings import load_settings
from parcels.occupancy.run import run_occupancy
from parcels.occupancy.store import list_runs, load_parcel_results
from parcels.occupancy.vector_engine import vector_occupancy
from tests.cli_runner import mujun_process, run_mujun
from tests.zh_text import english_words

SRID = 32635
X0, Y0 = 400_000.0, 6_600_000.0
OWNER, OWNER2, TENANT = "91320500MA1XXXXX0A", "91320500MA1YYYYY0B", "91320500MA1ZZZZZ0C"


def city(n=6, seed=3):
    """n×n parcels of 100 m in two towns, footprints shifted a little, some duplicated."""
    rng = np.random.default_rng(seed)
    cells, codes, towns = [], [], []
    for i in range(n):
        for j in range(n):
            cells.append(box(X0 + i * 100, Y0 + j * 100, X0 + i * 100 + 100, Y0 + j * 100 + 100))
            codes.append(f"3205000010{i:02d}GB{j:05d}")
            towns.append("东镇" if i < n // 2 else "西镇")
    parcels = gpd.GeoDataFrame({"parcel_code": codes, "cert_area_m2": 9800.0, "town": towns},
                               geometry=cells, crs=SRID)
    geoms = []
    for c in cells:
        for _ in range(3):
            x, y = rng.uniform(10, 60, 2)
            fp = box(c.bounds[0] + x, c.bounds[1] + y, c.bounds[0] + x + rng.uniform(5, 45),
                     c.bounds[1] + y + rng.uniform(5, 45))
            geoms.append(affinity.translate(fp, *rng.normal(0, 0.5, 2)))
    geoms += geoms[:5]                                    # dirty duplicates
    k = len(geoms)
    fps = gpd.GeoDataFrame({"height_m": rng.choice([4.0, 9.0, 12.0, 20.0], k),
                            "storeys": rng.choice([0, 1, 2, 4], k), "source": "test"},
                           geometry=geoms, crs=SRID)
    return parcels, fps


def load_city(conn, parcels, fps):
    from gis.db.batches import start_batch

    set_working_srid(conn, SRID)
    parcel_batch = start_batch(conn, "parcels", "test-parcels.gpkg")
    fp_batch = start_batch(conn, "footprints", "test-footprints.gpkg")
    copy_frame(conn, "parcel", parcels.rename_geometry("geom").assign(batch_id=parcel_batch),
               srid=SRID)
    copy_frame(conn, "footprint", fps.rename_geometry("geom").assign(batch_id=fp_batch),
               srid=SRID)
    codes = parcels.parcel_code.tolist()
    rights = pd.DataFrame({
        "parcel_code": [codes[0], codes[0], codes[1], codes[1], codes[2]],
        "credit_code": [OWNER, TENANT, OWNER, OWNER2, OWNER2],
        "right_type": ["owner", "tenant", "owner", "owner", "owner"],
        "share": [None, None, 0.25, 0.75, None],
        "leased_land_m2": [None, 2000.0, None, None, None],
        "leased_floor_m2": [None, 1500.0, None, None, None],
    })
    copy_frame(conn, "land_right", rights)
    conn.execute("INSERT INTO enterprise (credit_code, name) VALUES (%s, '甲公司'), "
                 "(%s, '乙公司'), (%s, '丙公司')", (OWNER, OWNER2, TENANT))
    conn.commit()


@pytest.fixture
def loaded(db_conn, db_dsn, tmp_path):
    parcels, fps = city()
    load_city(db_conn, parcels, fps)
    settings = load_settings({"dsn": db_dsn, "home": str(tmp_path / "home")}, environ={})
    return db_conn, settings, parcels


def count(conn, table, run_id):
    return conn.execute(f"SELECT count(*) FROM {table} WHERE run_id = %s", (run_id,)).fetchone()[0]


def test_runs_are_stored_and_identical_reruns_replace(loaded):
    conn, settings, parcels = loaded
    first = run_occupancy(conn, settings, year=2023, engine="vector")
    assert not first.reused
    assert count(conn, "occupancy", first.run_id) == len(parcels)
    assert count(conn, "enterprise_land", first.run_id) == 3
    again = run_occupancy(conn, settings, year=2023, engine="vector")
    assert again.run_id == first.run_id and again.reused
    assert count(conn, "occupancy", first.run_id) == len(parcels)
    assert conn.execute("SELECT count(*) FROM run").fetchone()[0] == 1

    other = run_occupancy(conn, settings.replace(tenant_rule="merge_with_holder"), year=2023,
                          engine="postgis")
    assert other.run_id != first.run_id
    runs = list_runs(conn)
    assert runs.run_id.tolist() == [first.run_id, other.run_id]
    assert runs.status.tolist() == ["done", "done"]
    assert runs.params.iloc[1]["tenant_rule"] == "merge_with_holder"
    assert list(runs.input_batches.iloc[0]) == [1, 2]
    # the first run is still there, and the two engines agree
    a = load_parcel_results(conn, first.run_id).set_index("parcel_code")
    b = load_parcel_results(conn, other.run_id).set_index("parcel_code")
    np.testing.assert_allclose(a.built_m2.astype(float), b.built_m2.astype(float), rtol=1e-9)
    assert (a.n_buildings == b.n_buildings).all()
    land = conn.execute("SELECT credit_code, land_m2, merged_into FROM enterprise_land "
                        "WHERE run_id = %s ORDER BY credit_code", (other.run_id,)).fetchall()
    assert [(c, round(v, 6), m) for c, v, m in land] == [
        (OWNER, 10000.0 + 2500.0, None), (OWNER2, 7500.0 + 10000.0, None),
        (TENANT, 0.0, OWNER)]
    tenant = first.enterprises.set_index("credit_code").loc[TENANT]
    assert tenant.land_m2 == 2000.0 and tenant.role == "tenant"


def test_changed_inputs_make_a_new_run(loaded):
    conn, settings, _ = loaded
    first = run_occupancy(conn, settings, year=2023)
    conn.execute("DELETE FROM footprint WHERE footprint_id = 1")
    conn.commit()
    second = run_occupancy(conn, settings, year=2023)
    assert second.run_id != first.run_id and not second.reused
    # a change rolled back is no change: the same run is reused
    conn.execute("UPDATE parcel SET geom = ST_Translate(geom, 1, 0)")
    conn.rollback()
    assert run_occupancy(conn, settings, year=2023).run_id == second.run_id
    # moving a geometry in place (same counts, same ids) is a change
    conn.execute("UPDATE footprint SET geom = ST_Translate(geom, 3, 0) WHERE footprint_id = 2")
    conn.commit()
    third = run_occupancy(conn, settings, year=2023)
    assert third.run_id not in (first.run_id, second.run_id)
    # so is a lease edited in place
    conn.execute("UPDATE land_right SET leased_land_m2 = 2500 WHERE leased_land_m2 = 2000")
    conn.commit()
    fourth = run_occupancy(conn, settings, year=2023)
    assert fourth.run_id != third.run_id
    assert fourth.enterprises.set_index("credit_code").loc[TENANT].land_m2 == 2500.0


def export_parcels(conn, path, **kw):
    from maps.export.layers import export_layer

    return export_layer(conn, "occupancy", path, **kw)


def export_enterprises(conn, path, **kw):
    from maps.export.layers import export_layer

    return export_layer(conn, "enterprise_land", path, **kw)


def test_exports_are_readable(loaded, tmp_path):
    conn, settings, parcels = loaded
    result = run_occupancy(conn, settings, year=2023)
    gpkg = export_parcels(conn, tmp_path / "parcels.gpkg")
    back = gpd.read_file(gpkg["path"], layer="occupancy")
    assert len(back) == len(parcels) and back.crs.to_epsg() == SRID
    assert {"parcel_code", "area_mu", "built_m2", "coverage", "far", "n_buildings"} <= set(
        back.columns)
    expected = result.parcels.set_index("parcel_code").built_m2
    np.testing.assert_allclose(back.set_index("parcel_code").built_m2.loc[expected.index],
                               expected, rtol=1e-12)
    csv = export_parcels(conn, tmp_path / "parcels.csv", run_id=result.run_id)
    assert len(pyogrio.read_dataframe(csv["path"])) == len(parcels)
    with pytest.raises(OutputExistsError):
        export_parcels(conn, tmp_path / "parcels.csv")
    export_parcels(conn, tmp_path / "parcels.csv", overwrite=True)

    xlsx = export_enterprises(conn, tmp_path / "land.xlsx")
    from maps.fields import FIELDS

    table = pd.read_excel(xlsx["path"])          # Chinese headers: map them back
    table = table.rename(columns={f.zh: f.name for f in FIELDS.values()})
    assert sorted(table.credit_code) == sorted([OWNER, OWNER2, TENANT])
    assert set(table.name) == {"甲公司", "乙公司", "丙公司"}
    assert table.land_mu.sum() == pytest.approx(table.land_m2.sum() * 15 / 10000)
    land_csv = export_enterprises(conn, tmp_path / "land.csv", year=2023)
    assert len(pd.read_csv(land_csv["path"], encoding="utf-8-sig")) == 3
    with pytest.raises(DataError, match="第 999 次运行不存在"):
        export_parcels(conn, tmp_path / "x.csv", run_id=999)


def run_cli(args, dsn, home):
    return mujun_process(*args, dsn=dsn, home=home, timeout=300)


def test_cli_run_and_export(loaded, db_dsn, tmp_path):
    _, _, parcels = loaded
    home = tmp_path / "home"
    done = run_cli(["occupancy", "--engine", "postgis", "--year", "2023", "--json"], db_dsn, home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["parcels"] == len(parcels) and summary["engine"] == "postgis"
    assert 0 < summary["coverage"] < 1
    out = tmp_path / "parcels.gpkg"
    done = run_cli(["occupancy", "export", "-o", str(out)], db_dsn, home)
    assert done.returncode == 0, done.stderr
    assert len(gpd.read_file(out, layer="occupancy")) == len(parcels)
    again = run_cli(["occupancy", "export", "-o", str(out)], db_dsn, home)
    assert again.returncode == 4 and "--overwrite" in again.stderr
    land = tmp_path / "land.csv"
    done = run_cli(["occupancy", "export", "--enterprises", "-o", str(land)], db_dsn, home)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(land)) == 3
    shp = run_cli(["occupancy", "export", "-o", str(tmp_path / "p.shp")], db_dsn, home)
    assert shp.returncode == 0 and len(gpd.read_file(tmp_path / "p.shp")) == len(parcels)
    bad = run_cli(["occupancy", "export", "-o", str(tmp_path / "p.txt")], db_dsn, home)
    assert bad.returncode == 3 and ".gpkg, .shp" in bad.stderr
    spread = run_cli(["occupancy", "--processes", "2", "--year", "2023", "--json"], db_dsn, home)
    assert spread.returncode == 0, spread.stderr
    assert json.loads(spread.stdout)["built_m2"] == pytest.approx(summary["built_m2"], rel=1e-9)
    wrong = run_cli(["occupancy", "--engine", "postgis", "--processes", "2"], db_dsn, home)
    assert wrong.returncode == 2 and "'postgis' takes no option 'processes'" in wrong.stderr
    assert "its options: workers" in wrong.stderr
    runs = run_cli(["occupancy", "runs", "--json"], db_dsn, home)
    assert [r["params"]["engine"] for r in json.loads(runs.stdout)] == ["postgis", "vector"]


def test_cli_text_is_chinese(loaded, db_dsn, tmp_path, monkeypatch, capsys):
    """The text view an official reads (run summary, runs, export, errors) is Chinese,
    with units; the codes a user types show as options in brackets."""
    def run(*argv):
        return run_mujun(argv, monkeypatch, db_dsn, capsys, home=tmp_path / "home")

    code, out, err = run("occupancy", "--engine", "postgis", "--year", "2023")
    assert code == 0, err
    assert "占地测算 第" in out and "平方米" in out and "亩" in out and "容积率" in out
    assert english_words(out, ("postgis",)) == []
    code, out, _ = run("occupancy", "runs")
    assert "已完成" in out and english_words(out, ("postgis",)) == []
    code, out, _ = run("occupancy", "export", "--enterprises", "-o", str(tmp_path / "l.csv"))
    assert code == 0 and "企业用地" in out and english_words(out) == []
    code, _, err = run("occupancy", "export", "--run", "999", "-o", str(tmp_path / "x.csv"))
    assert code == 3 and "第 999 次运行不是占地测算（--run）" in err
    assert english_words(err) == []
    code, _, err = run("occupancy", "export", "--year", "2023", "-o", str(tmp_path / "y.csv"))
    assert code == 2 and "（--year）" in err


@pytest.mark.slow
def test_dask_local_cluster_matches_vector(loaded, tmp_path):
    from parcels.occupancy.dask_engine import dask_occupancy
    from parcels.occupancy.kernel import KernelOptions

    conn, _, parcels = loaded
    options = KernelOptions()
    vec = vector_occupancy(conn, options)
    workdir = tmp_path / "parts"
    dsk = dask_occupancy(conn, options, workdir=workdir, n_workers=2, max_parcels=7,
                         processes=True)           # real worker processes, as on a cluster
    manifest = json.loads(next(Path(workdir).glob("*/manifest.json")).read_text())
    assert len(manifest) >= 6                      # two towns of 18 parcels, ≤ 7 each
    assert sum(m["n_parcels"] for m in manifest) == len(parcels)
    assert dsk.parcel_code.tolist() == vec.parcel_code.tolist()
    assert dsk.n_buildings.tolist() == vec.n_buildings.tolist()
    for col in ("built_m2", "sliver_m2", "floor_area_m2", "coverage", "far"):
        np.testing.assert_allclose(dsk[col], vec[col], rtol=1e-12, err_msg=col)


@pytest.mark.parametrize("engine", ["vector", "postgis"])
def test_empty_database_gives_an_empty_run(db_conn, db_dsn, tmp_path, engine):
    settings = load_settings({"dsn": db_dsn, "home": str(tmp_path)}, environ={})
    result = run_occupancy(db_conn, settings, year=2024, engine=engine)
    assert len(result.parcels) == 0 and len(result.enterprises) == 0
    assert result.summary["parcels"] == 0 and result.summary["coverage"] is None


def test_result_rows_need_their_run_and_go_with_it(loaded):
    import psycopg

    conn, settings, parcels = loaded
    first = run_occupancy(conn, settings, year=2023)
    other = run_occupancy(conn, settings.replace(tenant_rule="floor_pro_rata"), year=2023)
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="run 999999"):
        conn.execute("INSERT INTO occupancy (run_id, parcel_code, area_m2, built_m2, sliver_m2,"
                     " floor_area_m2, n_buildings) VALUES (999999, 'X', 1, 0, 0, 0, 0)")
    conn.rollback()
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("UPDATE enterprise_land SET run_id = 999999 WHERE run_id = %s",
                     (first.run_id,))
    conn.rollback()
    conn.execute("DELETE FROM run WHERE run_id = %s", (first.run_id,))
    assert count(conn, "occupancy", first.run_id) == 0
    assert count(conn, "enterprise_land", first.run_id) == 0
    assert count(conn, "occupancy", other.run_id) == len(parcels)     # the other run stays
    conn.execute("TRUNCATE run")
    assert conn.execute("SELECT (SELECT count(*) FROM occupancy)"
                        " + (SELECT count(*) FROM enterprise_land)").fetchone()[0] == 0
    conn.rollback()


def test_worker_processes_read_the_same_snapshot_and_give_the_same_rows(loaded, caplog):
    import logging

    from parcels.occupancy.kernel import KernelOptions

    conn, settings, _ = loaded
    opts = KernelOptions.from_settings(settings)
    here = vector_occupancy(conn, opts, processes=1)
    conn.rollback()
    with caplog.at_level(logging.INFO, logger="parcels.occupancy.vector_engine"):
        spread = vector_occupancy(conn, opts, processes=2, max_parcels=7)  # 6 chunks, 2 workers
    assert "6 chunks in 2 worker processes" in caplog.text
    caplog.clear()
    conn.rollback()
    with caplog.at_level(logging.INFO, logger="parcels.occupancy.vector_engine"):
        auto = vector_occupancy(conn, opts, max_parcels=7)    # several chunks: processes
    assert ("worker processes" in caplog.text) == ((os.cpu_count() or 1) > 1)
    np.testing.assert_allclose(auto.built_m2, here.built_m2, rtol=1e-12)
    caplog.clear()
    conn.rollback()
    assert spread.parcel_code.tolist() == here.parcel_code.tolist()
    assert (spread.n_buildings == here.n_buildings).all()
    for col in ("built_m2", "sliver_m2", "floor_area_m2", "coverage", "far"):
        np.testing.assert_allclose(spread[col], here[col], rtol=1e-12, err_msg=col)
    # a change this transaction made is invisible to other connections: computed here
    conn.execute("UPDATE footprint SET geom = ST_Translate(geom, 40, 0) WHERE footprint_id <= 20")
    moved_here = vector_occupancy(conn, opts, processes=1)
    with caplog.at_level(logging.INFO, logger="parcels.occupancy.vector_engine"):
        moved = vector_occupancy(conn, opts, processes=2, max_parcels=7)
    assert "worker processes" not in caplog.text
    conn.rollback()
    assert not np.allclose(moved_here.built_m2, here.built_m2)
    np.testing.assert_allclose(moved.built_m2, moved_here.built_m2, rtol=1e-12)
    # end to end through a run: worker processes, and the same stored figures
    run = run_occupancy(conn, settings, year=2023, engine_options={"processes": 2,
                                                                   "max_parcels": 7})
    stored = load_parcel_results(conn, run.run_id).set_index("parcel_code")
    np.testing.assert_allclose(stored.loc[here.parcel_code, "built_m2"].astype(float),
                               here.built_m2, rtol=1e-12)


def test_postgis_engine_reuses_overlaps_until_the_footprints_change(loaded, caplog):
    import logging

    from parcels.occupancy.kernel import KernelOptions
    from parcels.occupancy.postgis_engine import postgis_occupancy

    conn, settings, _ = loaded
    opts = KernelOptions.from_settings(settings)
    first = postgis_occupancy(conn, opts)
    conn.commit()
    stored = conn.execute("SELECT generation, n_pairs FROM footprint_overlap_state").fetchall()
    assert len(stored) == 1 and stored[0][1] >= 5             # the five dirty duplicates
    with caplog.at_level(logging.INFO, logger="parcels.occupancy.postgis_engine"):
        again = postgis_occupancy(conn, opts)
    assert "reused" in caplog.text
    pd.testing.assert_frame_equal(first, again)
    conn.rollback()
    # a changed footprint table: found again, stored under the new generation only
    conn.execute("DELETE FROM footprint WHERE footprint_id = (SELECT max(footprint_id)"
                 " FROM footprint)")
    conn.commit()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="parcels.occupancy.postgis_engine"):
        changed = postgis_occupancy(conn, opts)
    assert "reused" not in caplog.text
    conn.commit()
    now = conn.execute("SELECT generation, n_pairs FROM footprint_overlap_state").fetchall()
    assert len(now) == 1 and now[0][0] != stored[0][0] and now[0][1] < stored[0][1]
    assert conn.execute("SELECT count(DISTINCT generation) FROM footprint_overlap"
                        ).fetchone()[0] == 1
    kernel_like = vector_occupancy(conn, opts, processes=1)
    np.testing.assert_allclose(changed.built_m2, kernel_like.built_m2, rtol=1e-9)
    conn.rollback()
