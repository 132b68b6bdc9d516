"""The demo's ``extract`` stage keeps exactly one extraction in the database."""

from __future__ import annotations

import geopandas as gpd
import shapely

from sample.generate import SampleCity
from sample.stages.extract import SOURCE_PREFIX, extraction_paths, load_extracted


def _city(tmp_path, seed: int, n: int) -> SampleCity:
    """A sample folder holding only an 'extracted' footprint file of n squares."""
    city = SampleCity(root=tmp_path / f"small-{seed}", size="small", seed=seed)
    path, _ = extraction_paths(city)
    path.parent.mkdir(parents=True)
    x0 = 500_000 + 1000 * seed
    gpd.GeoDataFrame(
        {"image_id": ["rgbn"] * n, "image_date": "2024-06-15", "method": "ndsm",
         "height_m": 6.0 + seed, "storeys": 2},
        geometry=[shapely.box(x0 + 30 * i, 3_450_000, x0 + 30 * i + 20, 3_450_020)
                  for i in range(n)], crs=4549).to_file(path)
    return city


def _sources(conn) -> dict[str, int]:
    return dict(conn.execute("SELECT source, count(*) FROM footprint GROUP BY source").fetchall())


def test_one_demo_extraction_at_a_time_and_real_imports_untouched(db_conn, tmp_path):
    one, two = _city(tmp_path, 1, 5), _city(tmp_path, 2, 3)
    first = load_extracted(db_conn, one, image_date="2024-06-15")
    assert first["loaded"] and first["footprints"] == 5 and first["removed"] == 0
    label = f"{SOURCE_PREFIX}: sample small-1, extracted"
    assert _sources(db_conn) == {label: 5}
    assert db_conn.execute("SELECT min(image_date)::text FROM footprint").fetchone()[0] \
        == "2024-06-15"
    # a footprint of a real import is never touched
    db_conn.execute("INSERT INTO footprint (geom, source, method) VALUES (ST_Multi("
                    "ST_MakeEnvelope(0, 0, 10, 10, 4549)), 'vendor 2023', 'survey')")
    db_conn.commit()

    again = load_extracted(db_conn, one)
    assert again == {"loaded": False, "batch_id": first["batch_id"], "footprints": 5,
                     "removed": 0, "rejected": 0}
    # another sample's extraction replaces this one (its batch record stays, emptied)
    other = load_extracted(db_conn, two)
    assert other["loaded"] and other["removed"] == 5
    assert _sources(db_conn) == {f"{SOURCE_PREFIX}: sample small-2, extracted": 3,
                                 "vendor 2023": 1}
    db_conn.rollback()
    # and back: the first file loads again although it was imported once before
    back = load_extracted(db_conn, one)
    assert back["loaded"] and back["footprints"] == 5 and back["removed"] == 3
    assert _sources(db_conn) == {label: 5, "vendor 2023": 1}
    # a batch emptied behind the demo's back is forgotten and loaded again
    db_conn.execute("DELETE FROM footprint WHERE batch_id = %s", (back["batch_id"],))
    db_conn.commit()
    refilled = load_extracted(db_conn, one)
    assert refilled["loaded"] and refilled["batch_id"] != back["batch_id"]
    assert _sources(db_conn) == {label: 5, "vendor 2023": 1}
