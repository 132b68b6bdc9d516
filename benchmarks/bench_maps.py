"""Web maps and figures on the sample city: write time, size, time until drawn, page memory.

For every map kind, on the city sample (100,000 parcels) in one run:

* **write** — seconds for ``make_map`` (database read, tiles, page) and bytes on disk
  (page plus its ``_files`` folder);
* **drawn** — seconds from navigation until every visible tile is drawn, in headless
  Chromium (``/usr/bin/chromium`` through Playwright, network outside the machine cut),
  at the page's opening view (the whole city) and after zooming to parcels (zoom 15);
* **memory** — the page's JavaScript heap and the renderer process (unique set size).

Baseline, measured in the same run: a plain folium page with the whole parcel layer as
one GeoJSON (``folium.GeoJson`` coloured by industry with the same palette, with a
popup), Leaflet inlined so it can load offline. The ratios printed are mujun / baseline
for the industry map (lower is better). Targets for the industry map: drawn ≤ 3 s,
renderer ≤ 500 MB. Report figures (PDF, A4) are timed too.

The sample city and its database (``mujun_bench_maps_<size>``) are made once and reused.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

TARGETS = {"industry_drawn_s": 3.0, "industry_renderer_mb": 500.0}
SEED = 1
BASELINE_TIMEOUT_S = 240.0


def _database(size: str) -> Any:
    """Connection to the benchmark database with the sample, occupancy and scores (once)."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.settings import load_settings
    from sample.generate import generate_city, is_complete

    settings = load_settings()
    folder = Path(settings.home) / "bench" / f"maps-{size}-{SEED}"
    if not is_complete(folder):
        print(f"generating the {size} sample city in {folder} (once)", flush=True)
        generate_city(size, SEED, folder, imagery=False, overwrite=True)
    server = database_dsn(settings)
    name = f"mujun_bench_maps_{size}"
    with connect(server, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               (name,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                          .format(sql.Identifier(name)))
    dsn = make_conninfo(server, dbname=name)
    conn = connect(dsn)
    migrate(conn)
    ready = conn.execute("SELECT count(*) FROM run WHERE kind = 'score' AND status = 'done'"
                         ).fetchone()[0]
    if not ready:
        from parcels.occupancy.run import run_occupancy
        from sample.generate import SampleCity
        from sample.load import load_sample
        from scoring.run import run_scores

        print("loading the sample, measuring occupancy and scoring (once)", flush=True)
        load_sample(conn, SampleCity.load(folder))
        occ = run_occupancy(conn, settings.replace(dsn=dsn), engine="vector")
        year = conn.execute("SELECT max(year) FROM enterprise_year").fetchone()[0]
        run_scores(conn, "jiangsu-huaian-2024", int(year), occupancy_run=occ.run_id)
        conn.commit()
    _candidates(conn)
    return conn


def _candidates(conn: Any) -> None:
    """Candidates for the candidates/land-status maps when none were computed."""
    if conn.execute("SELECT to_regclass('candidate') IS NULL").fetchone()[0]:
        return
    if conn.execute("SELECT count(*) FROM candidate").fetchone()[0]:
        return
    try:
        from gis.settings import load_settings
        from scoring.land_status.run import run_candidates

        run_candidates(conn, load_settings())
    except Exception as exc:  # the land-status rules are not this benchmark's subject
        conn.rollback()
        print(f"  (candidates not computed: {exc}; the candidate maps are skipped)")


def _folder_bytes(info: dict) -> int:
    return int(info["bytes"])


def _measure_page(context: Any, path: Path, baseline: bool = False) -> dict[str, float]:
    from maps.web.browser import PageLog, page_memory_mb, renderer_memory_mb

    log = PageLog()
    page = context.new_page()

    def route(r: Any) -> None:
        from maps.web.browser import is_local

        log.requests += 1
        (r.continue_ if is_local(r.request.url) else r.abort)()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: log.failed.append(req.url))
    start = time.perf_counter()
    try:
        page.goto(path.resolve().as_uri(), wait_until="load",
                  timeout=BASELINE_TIMEOUT_S * 1000)
        if baseline:
            page.evaluate("new Promise(r => requestAnimationFrame(() => "
                          "requestAnimationFrame(r)))")
        else:
            page.evaluate("mujun.whenDrawn(window.mujunMap)")
        drawn = time.perf_counter() - start
        detail = float("nan")
        if not baseline:  # then zoom in to parcel level (zoom 15) at the busiest spot
            probe = page.evaluate("mujun.probe")
            if probe:
                start = time.perf_counter()
                page.evaluate("(p) => { mujunMap.setView(p, 15, {animate: false}); "
                              "return mujun.whenDrawn(mujunMap); }", probe)
                detail = time.perf_counter() - start
        heap = page_memory_mb(page)
        renderer = renderer_memory_mb()
    except Exception as exc:  # the baseline may not finish at city scale
        print(f"  {path.name}: not drawn within {BASELINE_TIMEOUT_S:.0f} s ({exc.__class__.__name__})")
        drawn, detail, heap = float("nan"), float("nan"), float("nan")
        renderer = renderer_memory_mb()
    finally:
        page.close()
    return {"drawn_s": round(drawn, 2), "zoom15_drawn_s": round(detail, 2),
            "heap_mb": round(heap, 1),
            "renderer_mb": round(renderer, 1), "requests": log.requests,
            "failed": len(log.failed)}


def _baseline_page(conn: Any, path: Path) -> dict[str, Any]:
    """A plain folium page: every parcel as one embedded GeoJSON, Leaflet inlined."""
    import folium

    from maps import data
    from maps.styles import style_for
    from maps.web import assets

    start = time.perf_counter()
    ctx = data.resolve_context(conn)
    frame = data.read_parcels(conn, ctx).to_crs(4326)
    style = style_for("industry")
    frame["colour"] = [style.colour_for(v) for v in frame["division"]]
    frame = frame[["parcel_code", "name", "division", "colour", frame.geometry.name]]
    b = frame.total_bounds
    m = folium.Map(location=[(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], zoom_start=13, tiles=None)
    m.default_js, m.default_css = [], []
    m.get_root().header.add_child(folium.Element(
        f"<style>{assets.asset('leaflet.css')}</style><script>{assets.asset('leaflet.js')}"
        "</script>"), name="leaflet")
    folium.GeoJson(frame.to_json(), name="parcels",
                   style_function=lambda f: {"fillColor": f["properties"]["colour"],
                                             "color": "#4d4d4d", "weight": 0.3,
                                             "fillOpacity": 0.75},
                   popup=folium.GeoJsonPopup(["parcel_code", "name", "division"])).add_to(m)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    m.save(str(path))
    return {"seconds": round(time.perf_counter() - start, 2), "bytes": path.stat().st_size}


def main(size: str = "city") -> dict[str, Any]:
    import tempfile

    from maps.make import make_map
    from maps.web.browser import browser
    from maps.web.kinds import KINDS

    conn = _database(size)
    parcels = conn.execute("SELECT count(*) FROM parcel").fetchone()[0]
    print(f"{parcels:,} parcels", flush=True)
    out: dict[str, Any] = {"parcels": parcels, "kinds": {}}
    with tempfile.TemporaryDirectory(prefix="bench-maps-") as tmp:
        root = Path(tmp)
        pages = {}
        for kind in KINDS:
            path = root / f"{kind}.html"
            try:
                info = make_map(conn, kind, path)
            except Exception as exc:
                conn.rollback()
                print(f"  {kind:<12} skipped: {exc}")
                continue
            pages[kind] = path
            out["kinds"][kind] = {"write_s": info["seconds"], "bytes": _folder_bytes(info),
                                  "tiles": info.get("tiles", 0), "inline": info.get("inline")}
        base = _baseline_page(conn, root / "baseline.html")
        with browser() as context:
            for kind, path in pages.items():
                out["kinds"][kind].update(_measure_page(context, path))
            base.update(_measure_page(context, root / "baseline.html", baseline=True))
        out["baseline"] = base
        figure = root / "industry.pdf"
        start = time.perf_counter()
        make_map(conn, "industry", figure)
        out["figure_industry_pdf_s"] = round(time.perf_counter() - start, 2)
    print(f"\n  {'kind':<12} {'write s':>8} {'MB':>7} {'drawn s':>8} {'z15 s':>6} "
          f"{'heap MB':>8} {'renderer MB':>12}")
    for kind, r in out["kinds"].items():
        print(f"  {kind:<12} {r['write_s']:8.2f} {r['bytes'] / 1e6:7.1f} {r['drawn_s']:8.2f} "
              f"{r['zoom15_drawn_s']:6.2f} {r['heap_mb']:8.1f} {r['renderer_mb']:12.1f}")
    print(f"  {'baseline':<12} {base['seconds']:8.2f} {base['bytes'] / 1e6:7.1f} "
          f"{base['drawn_s']:8.2f} {'':>6} {base['heap_mb']:8.1f} {base['renderer_mb']:12.1f}"
          "   (plain folium, whole layer as GeoJSON)")
    ind = out["kinds"].get("industry")
    if ind:
        ratios = {
            "drawn": ind["drawn_s"] / base["drawn_s"] if base["drawn_s"] == base["drawn_s"]
            else None,
            "size": ind["bytes"] / base["bytes"],
            "renderer": ind["renderer_mb"] / base["renderer_mb"],
        }
        out["ratios_vs_baseline"] = {k: (round(v, 3) if v is not None else None)
                                     for k, v in ratios.items()}
        print(f"\n  industry / baseline: drawn {out['ratios_vs_baseline']['drawn']}, "
              f"size {out['ratios_vs_baseline']['size']}, renderer memory "
              f"{out['ratios_vs_baseline']['renderer']} (lower is better)")
        out["targets_met"] = {"drawn_s": ind["drawn_s"] <= TARGETS["industry_drawn_s"],
                              "renderer_mb": ind["renderer_mb"] <= TARGETS["industry_renderer_mb"]}
        print(f"  targets (drawn ≤ 3 s, renderer ≤ 500 MB): {out['targets_met']}")
    print(f"  industry figure (PDF, A4): {out['figure_industry_pdf_s']} s")
    conn.close()
    return out
