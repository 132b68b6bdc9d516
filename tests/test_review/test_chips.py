"""Image chips of the candidate detail: a survey's image around the parcel, as PNG.

Two real GeoTIFFs (one RGB in the working CRS, one grey in WGS 84, so the chip is
reprojected) are recorded as two surveys of one parcel; a third survey names an image
file that is not there. The surveys are removed again at the end, so the other review
tests see the seeded database unchanged.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.test_review.conftest import SRID
from tests.test_review.test_browser import browser  # noqa: F401  (fixture)

BEFORE, MISSING, AFTER = "2023-01-10", "2023-03-10", "2023-06-10"


def _write_tif(path, bounds, crs, bands: np.ndarray) -> None:
    import rasterio
    from rasterio.transform import from_bounds

    count, height, width = bands.shape
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=count,
                       dtype=bands.dtype, crs=crs, transform=from_bounds(*bounds, width, height)
                       ) as dst:
        dst.write(bands)


@pytest.fixture(scope="module")
def imaged(review_dsn, seeded, tmp_path_factory):
    """(candidate id, parcel bounds, survey ids by date, image folder)."""
    import shapely
    from psycopg.types.json import Jsonb
    from pyproj import Transformer

    from gis.db.connection import connect

    folder = tmp_path_factory.mktemp("chips")
    cid = seeded["东区"][5]
    with connect(review_dsn) as conn:
        wkb = conn.execute("SELECT ST_AsBinary(p.geom) FROM candidate c JOIN parcel p USING"
                           " (parcel_code) WHERE c.candidate_id = %s", (cid,)).fetchone()[0]
        parcel = shapely.from_wkb(bytes(wkb))
        minx, miny, maxx, maxy = parcel.bounds
        area = (minx - 60, miny - 60, maxx + 60, maxy + 60)
        # before: RGB at 0.5 m in the working CRS, dark in the west, bright in the east
        h, w = int((area[3] - area[1]) / 0.5), int((area[2] - area[0]) / 0.5)
        ramp = np.tile(np.linspace(10, 240, w, dtype="float32"), (h, 1))
        rgb = np.stack([ramp, ramp * 0.8, 255 - ramp]).astype("uint8")
        _write_tif(folder / "before.tif", area, f"EPSG:{SRID}", rgb)
        # after: one grey band in WGS 84, bright in the south, dark in the north
        to_ll = Transformer.from_crs(SRID, 4326, always_xy=True)
        lon0, lat0 = to_ll.transform(area[0], area[1])
        lon1, lat1 = to_ll.transform(area[2], area[3])
        grey = np.tile(np.linspace(20, 230, 300, dtype="float32")[:, None], (1, 300))
        _write_tif(folder / "after.tif", (lon0, lat0, lon1, lat1), "EPSG:4326",
                   grey.astype("uint16")[None])
        cover = shapely.box(*area).wkb
        ids = {}
        for date, name in ((BEFORE, "before.tif"), (MISSING, "gone.tif"), (AFTER, "after.tif")):
            ids[date] = conn.execute(
                "INSERT INTO survey (survey_date, coverage, source, attrs) VALUES"
                " (%s, ST_Multi(ST_SetSRID(ST_GeomFromWKB(%s), %s)), 'chip test', %s)"
                " RETURNING survey_id",
                (date, cover, SRID, Jsonb({"image": str(folder / name)}))).fetchone()[0]
        conn.commit()
    try:
        yield cid, parcel.bounds, ids, folder
    finally:
        with connect(review_dsn) as conn:
            conn.execute("DELETE FROM survey WHERE survey_id = ANY(%s)", (list(ids.values()),))
            conn.commit()


def _png(resp) -> np.ndarray:
    from PIL import Image

    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(resp.content))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")).astype(int)


def _expected_size(bounds) -> tuple[int, int]:
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    pad = 0.15 * max(w, h)
    w, h = w + 2 * pad, h + 2 * pad
    return round(512 * w / max(w, h)), round(512 * h / max(w, h))


def test_chips_show_the_two_images(sessions, imaged):
    cid, bounds, ids, _ = imaged
    s = sessions["viewer_east"]
    before = _png(s.get(f"/api/candidates/{cid}/chip/{ids[BEFORE]}.png"))
    after = _png(s.get(f"/api/candidates/{cid}/chip/{ids[AFTER]}.png"))
    width, height = _expected_size(bounds)
    assert before.shape == after.shape == (height, width, 3)
    assert max(width, height) == 512
    assert np.abs(before - after).mean() > 20          # two different images
    # the parcel outline is drawn in red on both
    for chip in (before, after):
        red = (chip[..., 0] > 180) & (chip[..., 1] < 80) & (chip[..., 2] < 80)
        assert red.sum() > 2 * (width + height) * 0.5
    # before is the RGB ramp (dark west, bright east), after the grey one (bright south)
    west, east = before[:, : width // 5, 1].mean(), before[:, -width // 5:, 1].mean()
    assert east > west + 100
    north, south = after[: height // 5, :, 0].mean(), after[-height // 5:, :, 0].mean()
    assert south > north + 100
    assert (after[..., 0] == after[..., 1]).mean() > 0.95   # grey, but for the outline


def test_detail_offers_chips_without_paths(sessions, imaged):
    cid, _, ids, folder = imaged
    resp = sessions["off_east"].get(f"/api/candidates/{cid}")
    assert resp.status_code == 200
    flags = {s["survey_id"]: s["has_image"] for s in resp.json()["surveys"]}
    assert all(flags[i] for i in ids.values())
    assert str(folder) not in resp.text and ".tif" not in resp.text


def test_chip_is_refused_outside_the_district_and_without_a_session(sessions, server, imaged):
    import httpx

    cid, _, ids, _ = imaged
    path = f"/api/candidates/{cid}/chip/{ids[BEFORE]}.png"
    resp = sessions["off_west"].get(path)
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/json")
    assert httpx.get(server + path).status_code == 401


def test_missing_or_unrecorded_image_is_a_clear_404(sessions, seeded, imaged):
    cid, _, ids, folder = imaged
    s = sessions["off_east"]
    gone = s.get(f"/api/candidates/{cid}/chip/{ids[MISSING]}.png")
    assert gone.status_code == 404
    assert "missing" in gone.json()["error"] and str(folder) not in gone.text
    # the seeded surveys record no image
    first = s.get(f"/api/candidates/{cid}").json()["surveys"][0]
    assert first["has_image"] is False
    none = s.get(f"/api/candidates/{cid}/chip/{first['survey_id']}.png")
    assert none.status_code == 404 and "未记录影像" in none.json()["error"]
    # a survey that does not cover the candidate's parcel
    other = seeded["西区"][0]
    assert sessions["admin"].get(f"/api/candidates/{other}/chip/{ids[BEFORE]}.png"
                                 ).status_code == 404


def test_import_footprints_records_the_image(db_conn, db_dsn, monkeypatch, capsys, tmp_path):
    import geopandas as gpd
    import shapely

    from tests.cli_runner import run_mujun

    x0, y0 = 500_000.0, 3_450_000.0
    gpd.GeoDataFrame(geometry=[shapely.box(x0 + 10, y0 + 10, x0 + 40, y0 + 30)],
                     crs=f"EPSG:{SRID}").to_file(tmp_path / "fp.gpkg")
    _write_tif(tmp_path / "img.tif", (x0, y0, x0 + 50, y0 + 50), f"EPSG:{SRID}",
               np.zeros((3, 50, 50), dtype="uint8"))
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    code, _, err = run_mujun(["import", "footprints", str(tmp_path / "fp.gpkg"), "--date",
                              "2024-01-01", "--image", str(tmp_path / "notes.txt")],
                             monkeypatch, db_dsn, capsys)
    assert code != 0 and "notes.txt" in err and "raster" in err
    assert db_conn.execute("SELECT count(*) FROM footprint").fetchone()[0] == 0
    code, _, err = run_mujun(["import", "footprints", str(tmp_path / "fp.gpkg"), "--date",
                              "2024-01-01", "--image", str(tmp_path / "img.tif")],
                             monkeypatch, db_dsn, capsys)
    assert code == 0, err
    rows = db_conn.execute("SELECT attrs ->> 'image' FROM survey").fetchall()
    assert rows == [(str((tmp_path / "img.tif").resolve()),)]


@pytest.mark.browser
def test_detail_shows_the_chips_in_the_browser(browser, server, sessions, imaged):  # noqa: F811
    from tests.test_review.test_browser import _login, _until

    cid, _, _, _ = imaged
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(45_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems, page.outside = problems, []
    try:
        _login(page, server, "viewer_east")
        page.locator(f"#candidate-list tbody tr[data-id='{cid}']").click()
        page.wait_for_selector("#detail:not([hidden]) .snapshots.chips img.chip")
        chips = page.locator(".snapshots.chips img.chip")
        assert chips.count() == 2
        for i in range(2):
            _until(lambda i=i: chips.nth(i).evaluate("img => img.complete && img.naturalWidth")
                   == 512)
        captions = page.locator(".snapshots.chips figcaption").all_inner_texts()
        assert BEFORE in captions[0] and AFTER in captions[1]
        assert problems == [], problems
    finally:
        context.close()
