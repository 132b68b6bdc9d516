"""The tools behind ``mujun footprints``: method choice, planning, saved models, change files."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gis.errors import ConfigError, DataError, OutputExistsError
from remote_sensing.masks import MASK_METHODS
from remote_sensing.tools.change import change_files
from remote_sensing.tools.extract import extract_to_file, guess_method, plan_extraction
from remote_sensing.tools.train import train_from_files


def test_guess_method_from_the_inputs():
    assert guess_method(method="onnx", ndsm="h.tif") == "onnx"      # given wins
    assert guess_method(mask="m.tif", ndsm="h.tif") == "mask"
    assert guess_method(dsm="d.tif") == "ndsm"
    assert guess_method(train="ref.gpkg") == "classify"
    with pytest.raises(ConfigError, match="--ndsm"):
        guess_method()
    with pytest.raises(ConfigError, match=", ".join(MASK_METHODS)):
        guess_method(method="lidar")


def test_plan_refuses_an_existing_output_before_any_work(small_scene, tmp_path):
    out = tmp_path / "fp.gpkg"
    out.write_bytes(b"keep")
    # training would take seconds; the refusal comes first and nothing is written
    with pytest.raises(OutputExistsError, match="--overwrite"):
        plan_extraction(out, image=small_scene["rgbn"], train=small_scene["buildings"],
                        save_model=tmp_path / "m.joblib")
    assert out.read_bytes() == b"keep" and not (tmp_path / "m.joblib").exists()
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        plan_extraction(tmp_path / "x.gpkg", ndsm=small_scene["ndsm"], date="15/06/2024")


def test_plan_defaults_and_tile_count(small_scene, tmp_path):
    from gis.settings import load_settings

    settings = load_settings({"home": str(tmp_path), "height_threshold_m": 4.0}, environ={})
    plan = plan_extraction(tmp_path / "fp.gpkg", ndsm=small_scene["ndsm"], tile_size=256,
                           overlap=16, settings=settings)
    assert plan.method == "ndsm" and plan.cfg.height_threshold == 4.0
    assert plan.cfg.workers >= 1 and plan.storey_height_m == settings.storey_height_m
    # 600 px cut into cores of 256 - 2 * 16 px at most: ceil(600 / 256) per side at least
    assert plan.n_tiles >= 9
    ticks = []
    data = extract_to_file(plan, progress=ticks.append)
    assert sum(ticks) == plan.n_tiles == data["tiles"]
    assert data["footprints"] == len(gpd.read_file(plan.output)) > 10


def test_saved_model_is_never_replaced_without_overwrite(small_scene, tmp_path):
    target = tmp_path / "m.joblib"
    model = train_from_files(small_scene["rgbn"], small_scene["buildings"], save_to=target,
                             max_iter=5)
    card = json.loads(target.with_suffix(".json").read_text())
    assert card["kind"] == "mujun-pixel-classifier" and card["n_bands"] == model.n_bands
    before = target.stat().st_mtime_ns, target.with_suffix(".json").read_bytes()
    with pytest.raises(OutputExistsError, match=r"m\.joblib"):
        train_from_files(small_scene["rgbn"], small_scene["buildings"], save_to=target,
                         max_iter=5)
    with pytest.raises(OutputExistsError):
        model.save(target)
    # the card alone also counts: a model is the pair
    target.unlink()
    with pytest.raises(OutputExistsError, match=r"m\.json"):
        model.save(target)
    model.save(target, overwrite=True)
    assert target.exists() and target.stat().st_mtime_ns != before[0]
    assert list(tmp_path.glob(".*tmp*")) == []       # no temporary file left behind


def test_change_files_writes_both_layers_atomically(tmp_path):
    old = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10), shapely.box(50, 0, 60, 10)],
                           crs=4547)
    new = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 10), shapely.box(100, 0, 110, 10)],
                           crs=4547)
    parcels = gpd.GeoDataFrame({"code": ["a", "b"]},
                               geometry=[shapely.box(-5, -5, 70, 20), shapely.box(90, -5, 120, 20)],
                               crs=4547)
    for name, frame in {"old": old, "new": new, "parcels": parcels}.items():
        frame.to_file(tmp_path / f"{name}.gpkg")
    out = tmp_path / "ch.gpkg"
    data = change_files(tmp_path / "old.gpkg", tmp_path / "new.gpkg", out, min_area_m2=20,
                        parcels=tmp_path / "parcels.gpkg", parcel_id="code")
    assert data["counts"] == {"new": 1, "demolished": 1, "expanded": 1}
    assert data["area_m2"] == {"new": 100.0, "demolished": 100.0, "expanded": 100.0}
    assert [name for name, _ in pyogrio.list_layers(out)] == ["changes", "parcel_change"]
    per_parcel = pyogrio.read_dataframe(out, layer="parcel_change").set_index("parcel")
    assert per_parcel.loc["a", "change_m2"] == 0.0 and per_parcel.loc["b", "change_m2"] == 100.0
    with pytest.raises(OutputExistsError):
        change_files(tmp_path / "old.gpkg", tmp_path / "new.gpkg", out)
    # a bad option is refused naming the file and its columns; the output stays as it was
    before = out.read_bytes()
    with pytest.raises(DataError, match=r"parcels.gpkg.*no column 'no_such_column'.*code"):
        change_files(tmp_path / "old.gpkg", tmp_path / "new.gpkg", out,
                     parcels=tmp_path / "parcels.gpkg", parcel_id="no_such_column",
                     overwrite=True)
    assert out.read_bytes() == before
