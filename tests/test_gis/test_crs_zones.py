"""Finding 2: data read in a neighbouring Gauss–Krüger zone is refused, naming the CRS that fits."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis.importing.crs_check import check_area_of_use, check_near_stored, gk_zone
from gis.importing.report import ImportReport
from parcels.codes import make_parcel_code
from tests.cli_runner import run_mujun as run

LON, LAT = 121.0, 31.2   # a city in 3° zone 40 (CM 120°E) and 6° zone 21 (CM 123°E)
WORKING = 4549

# (true CRS of the coordinates, CRS declared by mistake): every adjacent-zone confusion
CONFUSIONS = [
    (4550, 4549),  # 3° zone 41 read as zone 40, no prefix (the finding)
    (4549, 4550),  # 3° zone 40 read as zone 41
    (4549, 4548),  # 3° zone 40 read as zone 39
    (4528, 4529),  # with prefix: zone 40 read as zone 41
    (4528, 4527),  # with prefix: zone 40 read as zone 39
    (4508, 4507),  # 6° zone 21 read as zone 20, no prefix
    (4499, 4498),  # 6° zone 21 read as zone 20, with prefix
    (4549, 4508),  # 3° zone 40 read as 6° zone 21
    (4508, 4549),  # 6° zone 21 read as 3° zone 40
    (4549, 4528),  # no prefix read as with prefix
    (4528, 4549),  # prefix read as without
    (4499, 4508),  # 6°: prefix read as without
    (4508, 4499),  # 6°: without read as with
]


def _city(epsg, n=20, offset=0.0):
    """n small squares around the city, projected into ``epsg``."""
    to = Transformer.from_crs(4326, epsg, always_xy=True)
    xs, ys = to.transform(LON + offset + np.arange(n) * 0.002, np.full(n, LAT))
    return np.array([shapely.box(x, y, x + 40, y + 40) for x, y in zip(xs, ys, strict=True)])


@pytest.mark.parametrize(("true", "declared"), CONFUSIONS)
def test_every_adjacent_zone_confusion_is_refused(true, declared):
    stored = shapely.total_bounds(_city(WORKING, offset=0.01))
    coords = _city(true)  # the batch's coordinates, truly in `true`, declared as `declared`
    report = ImportReport(unit="feature")
    ok = check_area_of_use(coords, declared, np.arange(1, len(coords) + 1), report)
    if ok.any():
        placed = gpd.GeoSeries(coords[ok], crs=declared).to_crs(WORKING).values
        check_near_stored(np.asarray(placed), shapely.total_bounds(coords[ok]), declared,
                          WORKING, stored, report)
    refusal = [i for i in report.file_errors]
    assert refusal, f"EPSG:{true} read as EPSG:{declared} was not refused"
    text = refusal[0].message
    if refusal[0].check == "far_from_stored":
        assert f"--crs {true}" in text or (
            gk_zone(true)[1:] != gk_zone(declared)[1:] and f"--crs {_twin(true)}" in text)


def _twin(epsg):
    """The CRS with the same central meridian and prefix in the other zone width, if any."""
    width, zone, prefix = gk_zone(epsg)
    cm = zone * 3 if width == 3 else zone * 6 - 3
    from gis.importing.crs_check import gk_epsg

    return gk_epsg(6, (cm + 3) // 6, prefix) if width == 3 else gk_epsg(3, cm // 3, prefix)


def test_the_same_zone_and_a_nearby_batch_load():
    stored = shapely.total_bounds(_city(WORKING, offset=0.3))  # ~30 km away: a neighbour town
    coords = _city(WORKING)
    report = ImportReport(unit="feature")
    check_near_stored(coords, shapely.total_bounds(coords), WORKING, WORKING, stored, report)
    assert report.issues == []


def _layer(path, epsg, codes, offset=0.0):
    gdf = gpd.GeoDataFrame({"ZDDM": codes}, geometry=list(_city(epsg, len(codes), offset)),
                           crs=epsg)
    gdf.to_file(path)
    for part in (".prj", ".cpg"):
        path.with_suffix(part).unlink(missing_ok=True)
    return path


def test_zone_41_parcels_declared_4549_are_refused(tmp_path, db_conn, db_dsn, monkeypatch,
                                                   capsys):
    """The finding as found: zone-41 coordinates, no .prj, --crs 4549 landed 280 km west."""
    db_conn.rollback()
    db_conn.execute("TRUNCATE parcel, footprint, import_batch, mujun_setting "
                    "RESTART IDENTITY CASCADE")
    db_conn.commit()
    first = _layer(tmp_path / "a.shp", 4549,
                   [make_parcel_code("320509", 1, 1, i) for i in range(1, 6)])
    code, _, err = run(["import", "parcels", str(first), "--crs", "4549"], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err
    second = _layer(tmp_path / "b.shp", 4550,
                    [make_parcel_code("320509", 1, 2, i) for i in range(1, 6)], offset=0.02)
    code, _, err = run(["import", "parcels", str(second), "--crs", "4549"], monkeypatch, db_dsn,
                       capsys)
    assert code == 3, err
    assert "--crs 4550" in err and "km from the data already stored" in err
    db_conn.rollback()
    assert db_conn.execute("SELECT count(*) FROM parcel").fetchone()[0] == 5
    code, _, err = run(["import", "parcels", str(second), "--crs", "4550"], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err


def test_zone_41_footprints_declared_4549_are_refused(tmp_path, db_conn, db_dsn, monkeypatch,
                                                      capsys):
    """Footprints go through the same check (the one footprint loader)."""
    db_conn.rollback()
    db_conn.execute("TRUNCATE parcel, footprint, import_batch, mujun_setting "
                    "RESTART IDENTITY CASCADE")
    db_conn.commit()
    parcels = _layer(tmp_path / "p.shp", 4549,
                     [make_parcel_code("320509", 1, 1, i) for i in range(1, 6)])
    assert run(["import", "parcels", str(parcels), "--crs", "4549"], monkeypatch, db_dsn,
               capsys)[0] == 0
    buildings = _layer(tmp_path / "b.shp", 4550, [f"b{i}" for i in range(1, 6)], offset=0.01)
    code, _, err = run(["import", "footprints", str(buildings), "--crs", "4549", "--date",
                        "2024-05-01"], monkeypatch, db_dsn, capsys)
    assert code == 3, err
    assert "--crs 4550" in err
    db_conn.rollback()
    assert db_conn.execute("SELECT count(*) FROM footprint").fetchone()[0] == 0
