"""gis.atomic: outputs appear whole or not at all, and are never silently replaced."""

from __future__ import annotations

import os

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gis.atomic import atomic_output, existing_members, output_members
from gis.errors import OutputExistsError


def listing(directory):
    return sorted(os.listdir(directory))


def test_success_moves_into_place_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.suffix == ".txt"
        assert not tmp.exists()
        tmp.write_text("complete")
        assert not target.exists()  # nothing visible before success
    assert target.read_text() == "complete"
    assert listing(tmp_path) == ["out.txt"]


def test_parent_directory_is_created(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("x")
    assert target.read_text() == "x"


def test_failure_leaves_no_target_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError, match="boom"), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert listing(tmp_path) == []


def test_existing_target_is_refused_and_untouched(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("original")
    entered = False
    with pytest.raises(OutputExistsError, match="--overwrite"), atomic_output(target):
        entered = True
    assert not entered
    assert target.read_text() == "original"
    assert listing(tmp_path) == ["out.txt"]


def test_overwrite_replaces(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("original")
    with atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert listing(tmp_path) == ["out.txt"]


def test_failed_overwrite_keeps_the_original(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("original")
    with pytest.raises(ValueError), atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("partial")
        raise ValueError("writer failed")
    assert target.read_text() == "original"
    assert listing(tmp_path) == ["out.txt"]


def test_writer_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_output(tmp_path / "out.txt"):
        pass
    assert listing(tmp_path) == []


def test_target_appearing_during_write_is_not_clobbered(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(OutputExistsError), atomic_output(target) as tmp:
        tmp.write_text("mine")
        target.write_text("someone else's")
    assert target.read_text() == "someone else's"
    assert listing(tmp_path) == ["out.txt"]


def _shapefile(path, n=2, encoding=None):
    gdf = gpd.GeoDataFrame(
        {"name": [f"镇{i}" for i in range(n)]},
        geometry=[shapely.Point(i, i) for i in range(n)],
        crs=4549,
    )
    pyogrio.write_dataframe(gdf, path, encoding=encoding)


def test_shapefile_sidecars_move_together(tmp_path):
    target = tmp_path / "towns.shp"
    with atomic_output(target) as tmp:
        _shapefile(tmp)
        assert len(existing_members(tmp)) >= 4
    assert {"towns.shp", "towns.shx", "towns.dbf", "towns.prj", "towns.cpg"} == set(listing(tmp_path))
    assert len(pyogrio.read_dataframe(target)) == 2


def test_any_existing_sidecar_counts_as_existing(tmp_path):
    (tmp_path / "towns.dbf").write_bytes(b"stale")
    with pytest.raises(OutputExistsError, match=r"towns\.dbf"), atomic_output(tmp_path / "towns.shp"):
        pass
    assert listing(tmp_path) == ["towns.dbf"]


def test_overwritten_shapefile_loses_stale_sidecars(tmp_path):
    target = tmp_path / "towns.shp"
    _shapefile(target, n=5)
    (tmp_path / "towns.qix").write_bytes(b"old index")
    with atomic_output(target, overwrite=True) as tmp:
        _shapefile(tmp, n=3)
    assert "towns.qix" not in listing(tmp_path)
    assert len(pyogrio.read_dataframe(target)) == 3
    assert not [n for n in listing(tmp_path) if ".tmp-" in n]


def test_failed_shapefile_write_removes_every_temp_member(tmp_path):
    target = tmp_path / "towns.shp"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        _shapefile(tmp)
        raise RuntimeError("after the sidecars were written")
    assert listing(tmp_path) == []


def test_output_members_lists_the_sidecar_set(tmp_path):
    names = [p.name for p in output_members(tmp_path / "a.shp")]
    assert names[0] == "a.shp" and {"a.shx", "a.dbf", "a.prj", "a.cpg"} <= set(names)
    assert [p.name for p in output_members(tmp_path / "a.gpkg")] == ["a.gpkg"]
    assert [p.name for p in output_members(tmp_path / "a.csv")] == ["a.csv"]
    assert [p.name for p in output_members(tmp_path / "a.csv", (".prj",))] == ["a.csv", "a.prj"]


def test_explicit_sidecars_move_and_count(tmp_path):
    target = tmp_path / "pts.csv"
    with atomic_output(target, sidecars=(".prj",)) as tmp:
        tmp.write_text("wkt\n")
        tmp.with_suffix(".prj").write_text("EPSG:4549")
    assert listing(tmp_path) == ["pts.csv", "pts.prj"]
    with pytest.raises(OutputExistsError, match=r"pts\.prj"), atomic_output(target, sidecars=(".prj",)):
        pass
    (tmp_path / "other.prj").write_text("x")
    (tmp_path / "other.shp").write_text("x")
    with atomic_output(tmp_path / "other.csv") as tmp:  # a plain CSV leaves a same-named .prj alone
        tmp.write_text("a\n")
    assert (tmp_path / "other.prj").read_text() == "x"


def test_directory_output_is_moved_whole_and_replaced_with_overwrite(tmp_path):
    from gis.atomic import FOLDER_MARK

    target = tmp_path / "page_files"
    with atomic_output(target) as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with atomic_output(target, overwrite=True) as tmp:
        tmp.mkdir()
        (tmp / "b").write_text("2")
    assert listing(target) == sorted([FOLDER_MARK, "b"])   # mujun's own folder: replaced
    assert listing(tmp_path) == ["page_files"]


def test_a_folder_mujun_did_not_write_is_never_replaced(tmp_path):
    """Finding 1: --overwrite onto a user's folder deleted it with everything in it."""
    from gis.errors import OutputError

    target = tmp_path / "x.xlsx"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="never removed"), \
                atomic_output(target, overwrite) as tmp:
            tmp.write_text("new")
    assert listing(target) == ["keep.txt"]
    assert listing(tmp_path) == ["x.xlsx"]              # no temporary file left behind


def test_start_from_existing_edits_a_copy(tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("v1")
    with pytest.raises(RuntimeError), atomic_output(target, start_from_existing=True) as tmp:
        assert tmp.read_text() == "v1"
        tmp.write_text("v2-partial")
        raise RuntimeError
    assert target.read_text() == "v1"
    with atomic_output(target, start_from_existing=True) as tmp:
        tmp.write_text(tmp.read_text() + "+v2")
    assert target.read_text() == "v1+v2"
    assert listing(tmp_path) == ["data.txt"]
