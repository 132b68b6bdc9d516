"""Write a sample city to a folder: the tool behind ``mujun demo``.

:func:`generate_city` plans all towns, then generates and appends them one at
a time (so even the 2-million-parcel ``province`` size runs in bounded
memory), writes the dirty copies and, when asked, the synthetic imagery.
Everything is written into a hidden sibling folder that is renamed into place
at the end: a folder at ``out_dir`` with a ``sample.json`` in it is always a
complete sample.

Files (all in EPSG:4549 unless said otherwise)::

    parcels.gpkg            layer parcels
    buildings.gpkg          layer buildings (truth: host parcel_code, crossing)
    layout.gpkg             layers towns, blocks, roads (+ trees with imagery)
    enterprises.csv         credit_code, name, industry_code, ... (UTF-8)
    enterprise_years.csv    one row per enterprise and year
    land_rights.csv         owners and tenants
    planted.csv             parcel_code, credit_code, kind, detail
    imagery/rgbn.tif, imagery/ndsm.tif   (small; per town in imagery/NNNN/ otherwise)
    dirty/                  the same data as a land bureau hands it over
    sample.json             sizes, counts, digests (the completion marker)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from gis.errors import OutputError, OutputExistsError
from gis.progress import Progress, no_progress
from sample.config import AS_OF, EPSG, GENERATOR_VERSION, YEARS, size_spec
from sample.layout import plan_city, town_outline
from sample.planted import COLUMNS as PLANTED_COLUMNS
from sample.records import COLUMNS as RECORD_COLUMNS
from sample.town import ENTERPRISE_COLUMNS, RIGHT_COLUMNS, generate_town
from sample.writers import CsvWriter, LayerWriter

log = logging.getLogger(__name__)

MARKER = "sample.json"
#: Clean tables, their file and (for layers) layer name, in load order.
TABLES = {
    "parcels": ("parcels.gpkg", "parcels"),
    "buildings": ("buildings.gpkg", "buildings"),
    "enterprises": ("enterprises.csv", None),
    "enterprise_years": ("enterprise_years.csv", None),
    "land_rights": ("land_rights.csv", None),
    "planted": ("planted.csv", None),
}


@dataclass
class SampleCity:
    """A generated sample: where its files are and what is in them.

    Attributes
    ----------
    root : Path
        The sample folder.
    size, seed : str, int
    paths : dict
        Table or product name -> file path (``parcels``, ``buildings``,
        ``layout``, ``enterprises``, ``enterprise_years``, ``land_rights``,
        ``planted``, ``dirty``, ``rgbn``/``ndsm`` with imagery).
    counts : dict
        Figures (towns, parcels, buildings, enterprises by size, rights by type,
        areas, planted cases by kind, ...).
    digests : dict
        Content SHA-256 per clean table (used by the loader to skip re-loads).
    """

    root: Path
    size: str
    seed: int
    paths: dict[str, Path] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    crs: str = f"EPSG:{EPSG}"
    as_of: str = AS_OF.isoformat()
    generator_version: int = GENERATOR_VERSION
    seconds: float = 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data["root"] = str(self.root)
        data["paths"] = {k: os.path.relpath(v, self.root) for k, v in self.paths.items()}
        return data

    @classmethod
    def load(cls, root: str | Path) -> SampleCity:
        """Read a complete sample's ``sample.json`` (raises FileNotFoundError if incomplete)."""
        root = Path(root)
        data = json.loads((root / MARKER).read_text(encoding="utf-8"))
        data["root"] = root
        data["paths"] = {k: root / v for k, v in data["paths"].items()}
        return cls(**data)


def is_complete(root: str | Path) -> bool:
    """True when ``root`` holds a complete sample (its marker file exists)."""
    return (Path(root) / MARKER).is_file()


def progress_steps(size: str, imagery: bool | None = None) -> int:
    """Units :func:`generate_city` reports through ``progress``: towns, dirty copies, imagery."""
    spec = size_spec(size)
    with_imagery = spec.imagery if imagery is None else imagery
    return spec.n_towns + 1 + (spec.n_towns if with_imagery else 0)


def generate_city(
    size: str,
    seed: int,
    out_dir: str | Path,
    *,
    imagery: bool | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> SampleCity:
    """Generate the sample city of a size and seed into ``out_dir``.

    Parameters
    ----------
    size : {'small', 'city', 'province'}
        See :data:`sample.config.SIZES`.
    seed : int
        Same seed, same content.
    out_dir : path
        Folder to create. It must not exist unless ``overwrite``.
    imagery : bool, optional
        Render the synthetic RGBN orthophoto and nDSM (default: on for ``small``).
    progress : callable, optional
        Called with 1 per town, once for the dirty copies and once per imagery
        scene (see :func:`progress_steps`).
    overwrite : bool
        Replace an existing ``out_dir``.

    Returns
    -------
    SampleCity

    Examples
    --------
    >>> import tempfile, pathlib
    >>> city = generate_city("small", 1, pathlib.Path(tempfile.mkdtemp()) / "s", imagery=False)
    >>> city.counts["towns"]
    3
    """
    spec = size_spec(size)
    with_imagery = spec.imagery if imagery is None else bool(imagery)
    progress = progress or no_progress
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out}: exists; use --overwrite to replace it")
    if out.exists() and not (out.is_dir() and is_complete(out)):
        raise OutputError(f"{out}: is not a sample city mujun wrote (no {MARKER}); it is "
                          "never removed: choose another folder or move it away")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.partial-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    started = time.perf_counter()
    try:
        city = _generate_into(work, size, seed, spec, with_imagery, progress)
        city.seconds = round(time.perf_counter() - started, 2)
        (work / MARKER).write_text(
            json.dumps(city.to_json(), ensure_ascii=False, indent=2, sort_keys=True),
            encoding="utf-8",
        )
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    city.root = out
    city.paths = {k: out / v.relative_to(work) for k, v in city.paths.items()}
    log.info("sample %s-%s written to %s in %.1f s", size, seed, out, city.seconds)
    return city


def _generate_into(
    work: Path, size, seed, spec, with_imagery: bool, progress: Progress
) -> SampleCity:
    from sample.dirty import DirtyCollector

    plans = plan_city(spec, seed)
    paths = {
        "parcels": work / "parcels.gpkg",
        "buildings": work / "buildings.gpkg",
        "layout": work / "layout.gpkg",
        "enterprises": work / "enterprises.csv",
        "enterprise_years": work / "enterprise_years.csv",
        "land_rights": work / "land_rights.csv",
        "planted": work / "planted.csv",
    }
    parcels_w = LayerWriter(paths["parcels"], "parcels")
    buildings_w = LayerWriter(paths["buildings"], "buildings")
    towns_w = LayerWriter(paths["layout"], "towns")
    blocks_w = LayerWriter(paths["layout"], "blocks")
    roads_w = LayerWriter(paths["layout"], "roads")
    trees_w = LayerWriter(paths["layout"], "trees")
    ent_w = CsvWriter(paths["enterprises"], ENTERPRISE_COLUMNS)
    rec_w = CsvWriter(paths["enterprise_years"], list(RECORD_COLUMNS))
    rights_w = CsvWriter(paths["land_rights"], RIGHT_COLUMNS)
    planted_w = CsvWriter(paths["planted"], list(PLANTED_COLUMNS))
    dirty = DirtyCollector(work / "dirty", spec.dirty_max_parcels, seed)

    single_scene = size == "small"
    scene_parts: list = []
    stats = {
        "parcel_area_m2": 0.0,
        "built_area_m2": 0.0,
        "footprint_area_m2": 0.0,
        "large": 0,
        "small": 0,
        "owners": 0,
        "tenants": 0,
        "crossing": 0,
        "empty_parcels": 0,
    }
    planted_counts: dict[str, int] = {}
    n_enterprises = n_buildings = 0
    for plan in plans:
        town = generate_town(plan, seed, n_enterprises, n_buildings, trees=with_imagery)
        parcels_w.write(town.parcels)
        buildings_w.write(town.buildings)
        towns_w.write(town.town)
        blocks_w.write(town.blocks)
        roads_w.write(town.roads)
        if town.trees is not None:
            trees_w.write(town.trees)
        ent_w.write(town.enterprises)
        rec_w.write(town.records)
        rights_w.write(town.rights)
        planted_w.write(town.planted)
        dirty.add(town)
        n_enterprises += len(town.enterprises)
        n_buildings += len(town.buildings)
        stats["parcel_area_m2"] += float(town.parcels.geometry.area.sum())
        stats["built_area_m2"] += float(town.built_m2.sum())
        stats["footprint_area_m2"] += float(town.buildings.geometry.area.sum())
        sizes = town.enterprises["size_class"].value_counts()
        stats["large"] += int(sizes.get("large", 0))
        stats["small"] += int(sizes.get("small", 0))
        types = town.rights["right_type"].value_counts()
        stats["owners"] += int(types.get("owner", 0))
        stats["tenants"] += int(types.get("tenant", 0))
        stats["crossing"] += int((town.buildings["crossing"] != "none").sum())
        stats["empty_parcels"] += int((town.built_m2 <= 0).sum())
        for kind, k in town.planted["kind"].value_counts().items():
            planted_counts[kind] = planted_counts.get(kind, 0) + int(k)
        if with_imagery:
            if single_scene:
                scene_parts.append((town.buildings, town.trees, town.roads, town_outline(plan)))
            else:
                _render(
                    work / "imagery" / f"{plan.index:04d}",
                    [(town.buildings, town.trees, town.roads, town_outline(plan))],
                    seed + plan.index,
                    paths,
                    key=None,
                )
                progress(1)
        progress(1)
    paths.update(dirty.write())
    progress(1)
    if with_imagery and single_scene:
        _render(work / "imagery", scene_parts, seed, paths, key="")
        progress(spec.n_towns)

    counts = {
        "towns": len(plans),
        "parcels": parcels_w.count,
        "buildings": buildings_w.count,
        "enterprises": ent_w.count,
        "enterprises_large": stats["large"],
        "enterprises_small": stats["small"],
        "enterprise_years": rec_w.count,
        "land_rights": rights_w.count,
        "owners": stats["owners"],
        "tenants": stats["tenants"],
        "trees": trees_w.count,
        "buildings_crossing": stats["crossing"],
        "empty_parcels": stats["empty_parcels"],
        "parcel_area_m2": round(stats["parcel_area_m2"], 2),
        "parcel_area_mu": round(stats["parcel_area_m2"] / SQM_PER_MU, 2),
        "built_area_m2": round(stats["built_area_m2"], 2),
        "built_area_mu": round(stats["built_area_m2"] / SQM_PER_MU, 2),
        "footprint_area_m2": round(stats["footprint_area_m2"], 2),
        "coverage": round(stats["built_area_m2"] / stats["parcel_area_m2"], 4),
        "planted": dict(sorted(planted_counts.items())),
        "years": list(YEARS),
    }
    digests = {
        "parcels": parcels_w.digest,
        "buildings": buildings_w.digest,
        "enterprises": ent_w.digest,
        "enterprise_years": rec_w.digest,
        "land_rights": rights_w.digest,
        "planted": planted_w.digest,
    }
    return SampleCity(root=work, size=size, seed=seed, paths=paths, counts=counts, digests=digests)


def _render(folder: Path, parts: list, seed: int, paths: dict, key: str | None) -> None:
    """Render one imagery scene from (buildings, trees, roads, outline) parts."""
    import geopandas as gpd
    import shapely

    from remote_sensing.synthetic import render_scene

    buildings = gpd.GeoDataFrame(pd.concat([p[0] for p in parts], ignore_index=True), crs=EPSG)
    trees = gpd.GeoDataFrame(pd.concat([p[1] for p in parts], ignore_index=True), crs=EPSG)
    roads = gpd.GeoDataFrame(pd.concat([p[2] for p in parts], ignore_index=True), crs=EPSG)
    minx, miny, maxx, maxy = shapely.total_bounds(np.array([p[3] for p in parts], dtype=object))
    bounds = (
        float(np.floor(minx)) - 10.0,
        float(np.floor(miny)) - 10.0,
        float(np.ceil(maxx)) + 10.0,
        float(np.ceil(maxy)) + 10.0,
    )
    result = render_scene(
        buildings[["height_m", "geometry"]],
        folder,
        bounds=bounds,
        resolution=0.5,
        trees=trees[["height_m", "geometry"]],
        roads=roads[["geometry"]],
        seed=seed,
    )
    if key is not None:
        paths["rgbn"] = Path(result["rgbn"])
        paths["ndsm"] = Path(result["ndsm"])
    else:
        paths.setdefault("imagery", folder.parent)
