"""Every map kind opened in headless Chromium with the network outside the machine cut.

Each page must render with no request failing or leaving the machine, draw something
(not a blank screenshot), change when its main layer is switched off in the layer
control, and open a popup when a feature is clicked. Browser tests FAIL in CI when
Chromium is missing (scripts/bootstrap.sh chromium installs it).
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest

from gis.errors import ConfigError
from maps.make import make_map
from maps.web.kinds import KINDS, MapOptions
from maps.web.page import external_requests
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chrome():
    from maps.web.browser import browser, chromium_path

    try:
        chromium_path()
    except ConfigError as exc:
        if IN_CI:
            pytest.fail(f"CI needs headless Chromium for the browser tests: {exc}")
        pytest.skip(str(exc))
    with browser() as context:
        yield context


def pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def not_blank(image: np.ndarray) -> bool:
    """More than a background: many colours and real contrast in the map area."""
    body = image[150:-60, 60:-300]        # away from title, controls and legend
    colours = len(np.unique(body.reshape(-1, 3), axis=0))
    return colours > 20 and float(body.std()) > 8.0


def changed(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a - b).sum(axis=2) > 30).mean())


def open_and_check(chrome, path, tmp_path, name):
    """Open, check requests and drawing, toggle the main layer, click for a popup."""
    from maps.web.browser import open_page

    page, log, seconds = open_page(chrome, path)
    try:
        assert not log.blocked, f"requests left the machine: {log.blocked}"
        assert not log.failed, f"requests failed: {log.failed}"
        assert not log.errors, f"page errors: {log.errors}"
        before = page.screenshot(path=str(tmp_path / f"{name}.png"))
        assert not_blank(pixels(before)), f"{name}: blank screenshot"
        # a popup opens on the probe feature
        probe = page.evaluate("mujun.probe")
        x, y = page.evaluate("(p) => { const c = mujunMap.latLngToContainerPoint(p); "
                             "return [c.x, c.y]; }", probe)
        page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup-content", timeout=30_000)   # a big page loads its rows by script
        text = page.inner_text(".leaflet-popup-content")
        page.screenshot(path=str(tmp_path / f"{name}-popup.png"))
        page.click(".leaflet-popup-close-button")
        page.wait_for_timeout(300)
        # switching the first overlay off changes the picture
        labels = page.locator(".leaflet-control-layers-overlays label")
        assert labels.count() >= 1
        labels.first.click()
        page.wait_for_timeout(400)
        after = page.screenshot(path=str(tmp_path / f"{name}-off.png"))
        assert changed(pixels(before), pixels(after)) > 0.01, f"{name}: toggle did nothing"
        return text, log, seconds
    finally:
        page.close()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_renders_offline_toggles_and_pops_up(city_db, chrome, tmp_path, kind):
    conn, _, _ = city_db
    out = tmp_path / f"{kind}.html"
    runs = ()
    if kind == "compare":                 # the one score run against itself: all "same"
        run = conn.execute("SELECT max(run_id) FROM run WHERE kind = 'score'").fetchone()[0]
        runs = (run, run)
    year = 2024 if kind == "land-tax" else None       # the land-tax map needs its year
    info = make_map(conn, kind, out, options=MapOptions(runs=runs, year=year))
    assert info["external_requests"] == []
    html = out.read_text(encoding="utf-8")
    assert external_requests(html) == []
    assert "cdn.jsdelivr" not in html and "code.jquery" not in html
    text, log, _ = open_and_check(chrome, out, tmp_path, kind)
    assert log.requests >= 1
    assert re.search(r"[\u4e00-\u9fff]", text), "popup labels are Chinese"


def test_big_page_loads_tiles_and_popup_rows_by_script(city_db, chrome, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "industry.html"
    info = make_map(conn, "industry", out, inline_limit_mb=0)
    assert not info["inline"] and (tmp_path / "industry_files").is_dir()
    assert info["tiles"] > 5
    text, log, _ = open_and_check(chrome, out, tmp_path, "industry-files")
    assert log.requests > 3                     # the page, its tile scripts, a row chunk
    assert "宗地代码" in text
    code = conn.execute("SELECT parcel_code FROM parcel").fetchall()
    assert any(c[0] in text for c in code), "the popup shows a real parcel code"


def test_click_before_its_tile_arrived_still_opens_the_popup(city_db, chrome, tmp_path):
    """A quick click (or a slow machine) must not lose the popup: the tile is fetched."""
    from maps.web.browser import open_page

    conn, _, _ = city_db
    out = tmp_path / "quick.html"
    make_map(conn, "industry", out, inline_limit_mb=0)
    page, log, _ = open_page(chrome, out)
    try:
        dropped = page.evaluate("() => { const keys = Object.keys(mujun.store)"
                                ".filter(k => !k.includes('/a/'));"
                                " keys.forEach(k => delete mujun.store[k]); return keys.length; }")
        assert dropped > 0, "the page had loaded tiles to forget"
        probe = page.evaluate("mujun.probe")
        x, y = page.evaluate("(p) => { const c = mujunMap.latLngToContainerPoint(p); "
                             "return [c.x, c.y]; }", probe)
        page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup-content", timeout=30_000)
        assert "宗地代码" in page.inner_text(".leaflet-popup-content")
        assert not log.failed and not log.errors
    finally:
        page.close()


def test_english_page(city_db, chrome, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "classes-en.html"
    make_map(conn, "classes", out, options=MapOptions(lang="en"))
    text, _, _ = open_and_check(chrome, out, tmp_path, "classes-en")
    assert "parcel code" in text
    assert "Per-mu evaluation classes" in out.read_text(encoding="utf-8")


def _probe(html: str) -> list[float]:
    return json.loads(re.search(r"mujun\.probe = (\[[^\]]+\])", html).group(1))


def test_gaode_shifts_display_copy_only(city_db, tmp_path):
    from gis.chinese_offsets import wgs84_to_gcj02

    conn, _, _ = city_db
    plain = tmp_path / "plain.html"
    gaode = tmp_path / "gaode.html"
    make_map(conn, "industry", plain)
    info = make_map(conn, "industry", gaode, basemap="gaode")
    assert "webrd0{s}.is.autonavi.com" in gaode.read_text(encoding="utf-8")
    assert info["external_requests"] == []     # tiles are requested by Leaflet, not markup
    lat, lon = _probe(plain.read_text(encoding="utf-8"))
    glat, glon = _probe(gaode.read_text(encoding="utf-8"))
    elon, elat = wgs84_to_gcj02(lon, lat)
    assert abs(glon - elon) < 2e-6 and abs(glat - elat) < 2e-6
    assert abs(glon - lon) > 1e-4          # hundreds of metres, not nothing
    # stored data unchanged
    srid = conn.execute("SELECT DISTINCT ST_SRID(geom) FROM parcel").fetchall()
    assert srid == [(4549,)]


def test_tianditu_and_xyz_basemaps(city_db, tmp_path):
    conn, _, _ = city_db
    with pytest.raises(ConfigError, match="token"):
        make_map(conn, "towns", tmp_path / "t.html", basemap="tianditu")
    make_map(conn, "towns", tmp_path / "t.html", basemap="tianditu", tianditu_token="abc123")
    html = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "tianditu.gov.cn/img_w/wmts" in html and "tk=abc123" in html
    make_map(conn, "towns", tmp_path / "x.html", basemap="xyz",
             basemap_url="http://10.0.0.5/wmts/img/{TileMatrix}/{TileRow}/{TileCol}.png")
    assert "http://10.0.0.5/wmts/img/{z}/{y}/{x}.png" in (tmp_path / "x.html").read_text(
        encoding="utf-8")
    with pytest.raises(ConfigError, match="placeholders"):
        make_map(conn, "towns", tmp_path / "y.html", basemap="xyz", basemap_url="http://h/a.png")


def test_orthophoto_basemap_is_local_tiles(city_db, chrome, tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    conn, _, _ = city_db
    x0, y0, x1, y1 = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom) AS e FROM parcel) s").fetchone()
    res = 2.0
    w, h = int((x1 - x0) / res), int((y1 - y0) / res)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 255 // w), (yy * 255 // h), np.full((h, w), 90)]).astype("uint8")
    image = tmp_path / "ortho.tif"
    with rasterio.open(image, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint8",
                       crs="EPSG:4549", transform=from_origin(x0, y1, res, res)) as dst:
        dst.write(rgb)
    out = tmp_path / "ortho.html"
    info = make_map(conn, "industry", out, basemap="ortho", ortho=image)
    assert info["external_requests"] == []
    tiles = list((tmp_path / "ortho_files" / "ortho").rglob("*.jpg"))
    assert len(tiles) > 4
    from maps.web.browser import open_page

    page, log, _ = open_page(chrome, out)
    try:
        page.wait_for_timeout(500)
        assert not log.blocked and not log.failed, (log.blocked, log.failed)
        assert log.requests > 2                 # the page and its orthophoto tiles
        # switch the parcels off: the orthophoto gradient shows underneath
        page.locator(".leaflet-control-layers-overlays label").first.click()
        page.wait_for_timeout(400)
        shot = pixels(page.screenshot(path=str(tmp_path / "ortho.png")))
        assert not_blank(shot)
    finally:
        page.close()


def test_overwrite_and_bad_suffix(city_db, tmp_path):
    from gis.errors import OutputExistsError

    conn, _, _ = city_db
    out = tmp_path / "m.html"
    make_map(conn, "towns", out)
    with pytest.raises(OutputExistsError):
        make_map(conn, "towns", out)
    make_map(conn, "towns", out, overwrite=True)
    with pytest.raises(ConfigError, match=r"\.html"):
        make_map(conn, "towns", tmp_path / "m.txt")
    with pytest.raises(ConfigError, match="unknown map kind"):
        make_map(conn, "nope", tmp_path / "n.html")


HOSTILE = '</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def test_hostile_names_never_run_as_script(city_db, chrome, tmp_path):
    """Finding 10: an enterprise named '…</script><script>…' ran its script in the page."""
    from maps.web.browser import open_page

    conn, _, _ = city_db
    conn.execute("CREATE TEMP TABLE keep_names AS SELECT credit_code, name FROM enterprise")
    conn.execute("CREATE TEMP TABLE keep_towns AS SELECT parcel_code, town FROM parcel")
    conn.execute("UPDATE enterprise SET name = name || %s", (HOSTILE,))
    conn.execute("UPDATE parcel SET town = town || %s WHERE town IS NOT NULL", (HOSTILE,))
    try:
        for kind in ("industry", "per-mu", "classes", "towns"):
            out = tmp_path / f"{kind}.html"
            make_map(conn, kind, out)
            html = out.read_text(encoding="utf-8")
            assert "</script><script>window.__xss" not in html, kind
            page, log, _ = open_page(chrome, out)
            try:
                assert page.evaluate("window.__xss === undefined"), f"{kind}: script ran"
                probe = page.evaluate("mujun.probe")
                x, y = page.evaluate("(p) => { const c = mujunMap.latLngToContainerPoint(p); "
                                     "return [c.x, c.y]; }", probe)
                for attempt in range(3):   # a busy machine may drop the first click
                    page.mouse.click(x, y)
                    try:
                        page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
                        break
                    except Exception:
                        if attempt == 2:
                            raise
                page.wait_for_timeout(300)
                text = page.inner_text(".leaflet-popup-content")
                assert page.evaluate("window.__xss === undefined"), f"{kind}: script ran"
                assert not log.errors, f"{kind}: {log.errors}"
                assert "window.__xss" in text, f"{kind}: the name is shown as text"
            finally:
                page.close()
    finally:
        conn.execute("UPDATE enterprise e SET name = k.name FROM keep_names k"
                     " WHERE k.credit_code = e.credit_code")
        conn.execute("UPDATE parcel p SET town = k.town FROM keep_towns k"
                     " WHERE k.parcel_code = p.parcel_code")
        conn.execute("DROP TABLE keep_names, keep_towns")
        conn.commit()
