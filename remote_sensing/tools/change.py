"""The tool behind ``mujun footprints change``: changes between two footprint files, as GPKG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Change kinds reported by :func:`remote_sensing.change.detect_changes`.
CHANGE_KINDS = ("new", "demolished", "expanded")


def write_layers(path: str | Path, layers: dict[str, pd.DataFrame], *,
                 overwrite: bool = False) -> Path:
    """Write several layers (GeoDataFrames, or plain tables) into one GeoPackage, atomically.

    Either every layer is there or the file is untouched (``gis.atomic.atomic_output``).

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    DataError
        GDAL refused a layer; the message names it.
    """
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

    from gis.atomic import atomic_output
    from gis.errors import DataError

    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        for number, (name, frame) in enumerate(layers.items()):
            try:
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG",
                                        append=number > 0)
            except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
                raise DataError(f"cannot write layer {name!r}: {exc}", source=str(path)) from exc
    return path


def change_files(old: str | Path, new: str | Path, output: str | Path, *,
                 min_area_m2: float = 20.0, parcels: str | Path | None = None,
                 parcel_id: str | None = None, overwrite: bool = False) -> dict[str, Any]:
    """New, demolished and expanded buildings between two footprint files, written to GPKG.

    Parameters
    ----------
    old, new : path
        Footprints at the earlier and later date.
    output : path
        GeoPackage with layer ``changes`` (and ``parcel_change`` with ``parcels``).
    min_area_m2 : float
        Smallest change reported.
    parcels : path, optional
        Parcels for the per-parcel built-area change.
    parcel_id : str, optional
        Parcel id column (default: row number).
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    dict
        ``output``, ``counts`` and ``area_m2`` per change kind, ``parcels_changed``.
    """
    from gis.atomic import existing_members
    from gis.errors import OutputExistsError
    from remote_sensing.change import detect_changes, parcel_change
    from remote_sensing.io import read_footprints

    if existing_members(output) and not overwrite:
        raise OutputExistsError(f"{output} exists; use --overwrite to replace it")
    o, n = read_footprints(old), read_footprints(new)
    changes = detect_changes(o, n, min_area_m2=min_area_m2)
    layers: dict[str, Any] = {"changes": changes}
    if parcels is not None:
        p = read_footprints(parcels)
        if parcel_id is not None and parcel_id not in p.columns:
            from gis.errors import DataError

            columns = ", ".join(c for c in p.columns if c != p.geometry.name)
            raise DataError(f"no column {parcel_id!r} for --parcel-id; columns: {columns}",
                            source=str(parcels))
        layers["parcel_change"] = parcel_change(o, n, p, id_column=parcel_id)
    write_layers(output, layers, overwrite=overwrite)
    counts = changes["change"].value_counts().to_dict()
    areas = changes.groupby("change")["area_m2"].sum().to_dict()
    data: dict[str, Any] = {
        "output": str(output),
        "counts": {k: int(counts.get(k, 0)) for k in CHANGE_KINDS},
        "area_m2": {k: float(areas.get(k, 0.0)) for k in CHANGE_KINDS},
    }
    if "parcel_change" in layers:
        data["parcels_changed"] = int((layers["parcel_change"]["change_m2"].abs() > 0).sum())
    return data
