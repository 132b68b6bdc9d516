"""Loading the sample city into the real PostGIS: counts, areas, idempotence, replacement."""

from __future__ import annotations

import pyogrio
import pytest

from sample import generate_city
from sample.load import is_loaded, load_sample


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    return (
        generate_city("small", 21, root / "a", imagery=False),
        generate_city("small", 22, root / "b", imagery=False),
    )


def _count(conn, table):
    from psycopg import sql

    return conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    ).fetchone()[0]


def test_load_counts_areas_and_noop_rerun(db_conn, cities):
    city = cities[0]
    result = load_sample(db_conn, city)
    assert result["loaded"] is True and result["srid"] == 4549
    c = city.counts
    expected = {
        "parcel": c["parcels"],
        "footprint": c["buildings"],
        "enterprise": c["enterprises"],
        "enterprise_year": c["enterprise_years"],
        "land_right": c["land_rights"],
    }
    for table, n in expected.items():
        assert result[table] == n
        assert _count(db_conn, table) == n, table
    area = db_conn.execute("SELECT sum(area_m2) FROM parcel").fetchone()[0]
    assert area == pytest.approx(c["parcel_area_m2"], rel=1e-9)
    srid = db_conn.execute("SELECT DISTINCT ST_SRID(geom) FROM footprint").fetchall()
    assert srid == [(4549,)]
    assert (
        db_conn.execute("SELECT value FROM mujun_setting WHERE key='working_srid'").fetchone()[0]
        == "4549"
    )
    batches = db_conn.execute(
        "SELECT layer, n_loaded, source_sha256 FROM import_batch "
        "WHERE kind = 'sample' ORDER BY batch_id"
    ).fetchall()
    assert [b[0] for b in batches] == [
        "parcels",
        "buildings",
        "enterprises",
        "enterprise_years",
        "land_rights",
    ]
    assert all(b[2] == city.digests[b[0]] for b in batches)
    # a footprint keeps its height and storeys
    heights = pyogrio.read_dataframe(city.paths["buildings"], read_geometry=False)
    row = db_conn.execute(
        "SELECT height_m, storeys FROM footprint WHERE source_fid = %s",
        (int(heights["building_id"][0]),),
    ).fetchone()
    assert (
        row[0] == pytest.approx(heights["height_m"][0], abs=1e-3)
        and row[1] == heights["storeys"][0]
    )

    again = load_sample(db_conn, city)
    assert again["loaded"] is False and again["parcel"] == c["parcels"]
    assert _count(db_conn, "import_batch") == 5
    assert _count(db_conn, "parcel") == c["parcels"]


def test_another_sample_replaces_the_previous_one(db_conn, cities):
    first, second = cities
    load_sample(db_conn, first)
    result = load_sample(db_conn, second)
    assert result["loaded"] is True and result["replaced"] > 0
    assert _count(db_conn, "parcel") == second.counts["parcels"]
    assert _count(db_conn, "enterprise") == second.counts["enterprises"]
    codes = {r[0] for r in db_conn.execute("SELECT credit_code FROM enterprise").fetchall()}
    firsts = {
        r[0]
        for r in db_conn.execute(
            "SELECT credit_code FROM enterprise WHERE batch_id IN "
            "(SELECT batch_id FROM import_batch WHERE params->>'seed' = '21')"
        ).fetchall()
    }
    assert codes and not firsts


def test_failed_load_leaves_database_unchanged(db_conn, cities, tmp_path):
    import shutil

    from gis.errors import MujunError
    from sample import SampleCity

    broken_root = tmp_path / "broken"
    shutil.copytree(cities[0].root, broken_root)
    broken = SampleCity.load(broken_root)
    # a land-rights file that violates a CHECK constraint (share > 1) fails the last table
    text = broken.paths["land_rights"].read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    fields = text[1].split(",")
    fields[header.index("share")] = "2.0"
    text[1] = ",".join(fields)
    broken.paths["land_rights"].write_text("\n".join(text) + "\n", encoding="utf-8")
    broken.digests["land_rights"] = "0" * 64
    with pytest.raises(MujunError):
        load_sample(db_conn, broken)
    db_conn.rollback()
    for table in ("parcel", "footprint", "enterprise", "import_batch", "mujun_setting"):
        assert _count(db_conn, table) == 0, table

def test_switching_back_to_an_earlier_sample_reloads_it(db_conn, cities):
    # Loading B removes A's rows but keeps A's batch records; A must then load again,
    # not be taken as "already loaded".
    first, second = cities
    load_sample(db_conn, first)
    load_sample(db_conn, second)
    assert not is_loaded(db_conn, first)
    result = load_sample(db_conn, first)
    assert result["loaded"] is True
    assert _count(db_conn, "parcel") == first.counts["parcels"]
    assert is_loaded(db_conn, first) and not is_loaded(db_conn, second)
