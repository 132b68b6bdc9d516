"""``mujun demo`` end to end through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

MUJUN = Path(sys.executable).with_name("mujun")


def _run(args, home: Path, dsn: str | None, timeout: float = 600):
    env = dict(os.environ, MUJUN_HOME=str(home), MUJUN_PROGRESS="false")
    env.pop("MUJUN_DSN", None)
    if dsn is not None:
        env["MUJUN_DSN"] = dsn
    return subprocess.run(
        [str(MUJUN), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_demo_small_end_to_end(db_dsn, tmp_path):
    import psycopg
    import rasterio

    home = tmp_path / "home"
    first = _run(["demo", "--size", "small", "--seed", "3"], home, db_dsn)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for word in (
        "parcels",
        "buildings",
        "enterprises",
        "large (规上)",
        "tenants",
        "mu",
        "coverage",
        "idle",
        "unfinished",
        "built_unused",
        "stopped_firm",
        "database     loaded",
    ):
        assert word in out, word
    root = home / "demo" / "small-3"
    assert (root / "sample.json").is_file()
    assert str(root) in out

    second = _run(["demo", "--size", "small", "--seed", "3", "--json"], home, db_dsn)
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["generated"] is False
    assert data["stages"]["load"]["loaded"] is False
    counts = json.loads((root / "sample.json").read_text(encoding="utf-8"))["counts"]
    assert data["parcels"] == counts["parcels"] and data["buildings"] == counts["buildings"]
    assert (
        data["enterprises"]["large"] + data["enterprises"]["small"] == data["enterprises"]["total"]
    )
    assert data["parcel_area"]["mu"] == pytest.approx(
        data["parcel_area"]["m2"] / (10000 / 15), rel=1e-6
    )
    assert data["planted"]["idle"] > 0

    with psycopg.connect(db_dsn) as conn:
        n = conn.execute("SELECT count(*) FROM parcel").fetchone()[0]
        batches = conn.execute("SELECT count(*) FROM import_batch WHERE kind='sample'").fetchone()[
            0
        ]
        conn.execute(
            "TRUNCATE parcel, footprint, enterprise, enterprise_year, land_right, import_batch, "
            "mujun_setting RESTART IDENTITY CASCADE"
        )
    assert n == counts["parcels"] and batches == 5

    # the imagery renders the buildings: high in the nDSM at a building's centre, low on roads
    import pyogrio

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
