"""Footprint extraction: throughput and peak memory, vs whole-array polygonization.

For each input size (synthetic scenes, generated once and cached under
``<mujun home>/bench/``) three runs, each in a fresh process whose peak RSS
(with its worker processes) is sampled with psutil:

* ``height``: ``footprints extract`` with the nDSM method, end to end (tiles,
  workers, seam merge, regularize, attributes, GeoPackage written);
* ``mask``: the same from a given building mask;
* ``baseline``: the whole mask read into memory and polygonized with one
  ``rasterio.features.shapes`` call (no cleanup, no attributes, nothing written).

Printed: megapixels per second and peak RSS per run, the ratios to the
baseline, the CPU seconds of each run (the process and its workers), where the
tiled runs spend them (summed over workers: read, mask, label, stats, trace,
regularize, serialize; in the parent: seam_merge, attributes, write), and peak
RSS per size (it should stay flat for the tiled runs and grow for the baseline).

The baseline uses one core; the tiled runs use two worker processes (both cores).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

SIZES = {"small": [2000, 4000], "city": [10000, 20000, 40000], "province": [20000, 40000]}
MAIN = {"small": 4000, "city": 20000, "province": 40000}


def _inputs(size: int) -> dict[str, Path]:
    """Synthetic nDSM, RGBN and mask of ``size`` x ``size`` pixels (cached)."""
    from benchmarks._cache import cached_inputs

    def make(root: Path) -> dict[str, Path]:
        import numpy as np
        import rasterio

        from remote_sensing.synthetic import make_synthetic_inputs

        t = time.perf_counter()
        paths = make_synthetic_inputs(root, size, seed=11)
        with rasterio.open(paths["ndsm"]) as src:
            prof = src.profile | {"dtype": "uint8", "nodata": None, "predictor": 1, "count": 1}
            with rasterio.open(root / "mask.tif", "w", **prof) as dst:
                for _, win in src.block_windows(1):
                    dst.write((src.read(1, window=win) > 2.5).astype(np.uint8)[None], window=win)
        paths["mask"] = root / "mask.tif"
        print(f"  generated {size}x{size} inputs in {time.perf_counter() - t:.0f} s", flush=True)
        return paths

    return cached_inputs(f"footprints_{size}", make)


def _cpu_seconds() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _child(kind: str, paths_json: str, out: str) -> None:
    """Body of a measured run (executed in a fresh interpreter)."""
    paths = json.loads(paths_json)
    if kind == "baseline":
        import rasterio
        from rasterio.features import shapes
        from shapely.geometry import shape

        with rasterio.open(paths["mask"]) as ds:
            m = ds.read(1)
            n = sum(1 for g, _ in shapes(m, mask=m > 0, connectivity=4, transform=ds.transform)
                    if shape(g).area > 0)
        print(json.dumps({"n": n, "cpu_seconds": round(_cpu_seconds(), 2)}))
        return
    from remote_sensing.extract import extract_footprints, prepare_config
    from remote_sensing.sinks import file_sink

    if kind == "height":
        cfg, meta = prepare_config(method="ndsm", ndsm=paths["ndsm"], workers=2, tile_size=1024)
    else:
        cfg, meta = prepare_config(method="mask", mask=paths["mask"], workers=2, tile_size=1024,
                                   threshold=1)
    with file_sink(out, overwrite=True) as sink:
        res = extract_footprints(cfg, sink=sink, meta=meta)
    print(json.dumps({"n": res.n_footprints, "cpu_seconds": round(_cpu_seconds(), 2),
                      "stages": res.extras.get("seconds", {})}))


def _measure(kind: str, paths: dict, out: Path) -> dict:
    from benchmarks._process import run_measured

    code = ("import sys; from benchmarks.bench_footprints import _child; "
            "_child(sys.argv[1], sys.argv[2], sys.argv[3])")
    run = run_measured([sys.executable, "-c", code, kind,
                        json.dumps({k: str(v) for k, v in paths.items()}), str(out)])
    if run.returncode != 0:
        raise RuntimeError(f"{kind} run failed: {run.stderr[-2000:]}")
    data = json.loads(run.stdout.strip().splitlines()[-1])
    return {"seconds": round(run.seconds, 2), "peak_rss_mb": round(run.peak_rss_mb, 1),
            "polygons": data["n"], "cpu_seconds": data["cpu_seconds"], "stages": data.get("stages", {})}


def main(size: str = "small") -> dict:
    """Run the benchmark at ``size`` (small: 2000² and 4000²; city: 10k², 20k², 40k²)."""
    import tempfile

    results: dict = {"runs": {}}
    for px in SIZES[size]:
        paths = _inputs(px)
        mpx = px * px / 1e6
        row = {}
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("height", "mask", "baseline"):
                r = _measure(kind, paths, Path(tmp) / f"{kind}.gpkg")
                r["mpx_per_s"] = round(mpx / r["seconds"], 2)
                row[kind] = r
                print(f"  {px:>6}² {kind:<8} {r['seconds']:8.1f} s  {r['mpx_per_s']:7.2f} Mpx/s  "
                      f"peak RSS {r['peak_rss_mb']:8.1f} MB  {r['polygons']} polygons  "
                      f"CPU {r['cpu_seconds']:.1f} s", flush=True)
                if r["stages"]:
                    print("           stages (s): " + ", ".join(
                        f"{k} {v:.1f}" for k, v in sorted(r["stages"].items(), key=lambda kv: -kv[1])),
                        flush=True)
        for kind in ("height", "mask"):
            row[kind]["speed_vs_baseline"] = round(row[kind]["mpx_per_s"] / row["baseline"]["mpx_per_s"], 3)
            row[kind]["rss_vs_baseline"] = round(row[kind]["peak_rss_mb"] / row["baseline"]["peak_rss_mb"], 3)
            print(f"  {px:>6}² {kind}: {row[kind]['speed_vs_baseline']:.2f}x baseline speed, "
                  f"{row[kind]['rss_vs_baseline']:.2f}x baseline peak RSS", flush=True)
        results["runs"][px] = row
    sizes = SIZES[size]
    for kind in ("height", "mask", "baseline"):
        rss = [results["runs"][px][kind]["peak_rss_mb"] for px in sizes]
        growth = rss[-1] / rss[0]
        results[f"{kind}_rss_growth"] = round(growth, 3)
        print(f"  peak RSS {kind}: {' -> '.join(f'{v:.0f}' for v in rss)} MB over "
              f"{' -> '.join(f'{s}²' for s in sizes)} ({growth:.2f}x for "
              f"{(sizes[-1] / sizes[0]) ** 2:.0f}x the pixels)", flush=True)
    results["main_size"] = MAIN[size]
    return results
