"""``mujun footprints``: extract building footprints from imagery, assess them, find change."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option

_METHODS = ("ndsm", "classify", "onnx", "mask")
_file = click.Path(dir_okay=False, path_type=Path)


@click.group()
def footprints() -> None:
    """Building footprints: extract from imagery, assess against a reference, change."""


def _guess_method(method, ndsm, dsm, mask, model, train) -> str:
    if method:
        return method
    if mask:
        return "mask"
    if ndsm or dsm:
        return "ndsm"
    if train or (model and str(model).endswith(".joblib")):
        return "classify"
    if model:
        return "onnx"
    raise click.UsageError("give --ndsm (or --dsm/--dtm), --mask, --model or --train, or --method")


@footprints.command()
@click.option("--method", type=click.Choice(_METHODS), help="Mask method (default: from the inputs given).")
@click.option("--image", type=_file, help="Orthophoto / satellite image (RGB, RGBN or pan).")
@click.option("--ndsm", type=_file, help="Height above ground raster (nDSM).")
@click.option("--dsm", type=_file, help="Surface model (with --dtm instead of --ndsm).")
@click.option("--dtm", type=_file, help="Terrain model (with --dsm).")
@click.option("--mask", "mask_path", type=_file, help="Given building classification/probability raster.")
@click.option("--threshold", type=float, help="Mask method: value >= this is building (default 0.5).")
@click.option("--height-threshold", type=float, help="nDSM method: metres above ground (default: setting height_threshold_m).")
@click.option("--ndvi-threshold", type=float, default=0.3, show_default=True,
              help="nDSM method with an RGBN --image: greener pixels are vegetation.")
@click.option("--no-vegetation-filter", is_flag=True, help="nDSM method: do not exclude vegetation.")
@click.option("--train", type=_file, help="Classify: reference footprints to learn from.")
@click.option("--train-area", type=_file, help="Classify: polygon(s) where the reference is complete.")
@click.option("--model", type=_file, help="Classify: saved model (.joblib); onnx: model (.onnx) with its card.")
@click.option("--save-model", type=_file, help="Classify: save the trained model (.joblib + .json card).")
@click.option("--min-area", type=float, default=8.0, show_default=True, help="Drop blobs smaller than this (m²).")
@click.option("--tile-size", type=int, default=1024, show_default=True, help="Tile side in pixels.")
@click.option("--overlap", type=int, default=32, show_default=True, help="Tile overlap in pixels.")
@click.option("--workers", type=int, default=None, help="Worker processes (default: CPU count, max 4).")
@click.option("--no-regularize", is_flag=True, help="Keep traced outlines as they are.")
@click.option("--regularize-tolerance", type=float, default=0.1, show_default=True,
              help="Keep a regularized outline only if its area changes less than this share.")
@click.option("--date", help="Image date YYYY-MM-DD (default: from the image metadata).")
@click.option("--image-id", help="Image identifier stored with each footprint (default: file name).")
@click.option("--to-crs", help="Output CRS (default: the image CRS).")
@click.option("-o", "--output", required=True, type=_file, help="Output footprints (.gpkg, .fgb, .shp, .geojson).")
@click.option("--load", is_flag=True, help="Also load the footprints into PostGIS as one import batch.")
@overwrite_option
@json_option
@click.pass_obj
def extract(app, method, image, ndsm, dsm, dtm, mask_path, threshold, height_threshold, ndvi_threshold,
            no_vegetation_filter, train, train_area, model, save_model, min_area, tile_size, overlap,
            workers, no_regularize, regularize_tolerance, date, image_id, to_crs, output, load,
            overwrite, as_json):
    """Extract building footprints from imagery into OUTPUT (written atomically)."""
    from gis.errors import ConfigError, OutputExistsError
    from gis.progress import progress_bar
    from remote_sensing.extract import extract_footprints, prepare_config
    from remote_sensing.sinks import file_sink

    settings = app.settings
    method = _guess_method(method, ndsm, dsm, mask_path, model, train)
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; use --overwrite to replace it")
    if date is not None:
        import datetime

        try:
            datetime.date.fromisoformat(date)
        except ValueError:
            raise ConfigError(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    card = None
    if method == "classify" and model is None:
        if train is None:
            raise ConfigError("the classify method needs --train REF (or --model saved earlier)")
        if image is None:
            raise ConfigError("the classify method needs --image")
        from remote_sensing.classifier import train_classifier
        from remote_sensing.io import read_footprints

        ref = read_footprints(train)
        area = read_footprints(train_area) if train_area else None
        trained = train_classifier(image, ref, train_area=area)
        card = trained.card
        if save_model:
            model_path, _ = trained.save(save_model)
            model = model_path
        else:
            model = trained
    options = {
        "height_threshold": height_threshold or settings.height_threshold_m,
        "ndvi_threshold": None if no_vegetation_filter else ndvi_threshold,
        "threshold": threshold,
        "min_area_m2": min_area,
        "tile_size": tile_size,
        "overlap": overlap,
        "workers": workers or min(4, os.cpu_count() or 1),
        "regularize": not no_regularize,
        "regularize_tolerance": regularize_tolerance,
    }
    cfg, meta = prepare_config(method=method, image=image, ndsm=ndsm, dsm=dsm, dtm=dtm, mask=mask_path,
                               model=model, **options)
    from remote_sensing.windows import tile_grid

    n_tiles = len(tile_grid(cfg.grid.height, cfg.grid.width, cfg.tile_size, cfg.overlap))
    with (file_sink(output, overwrite=overwrite) as sink,
          progress_bar(n_tiles, "footprints", "tile", settings.progress) as bar):
        result = extract_footprints(cfg, sink=sink, image_id=image_id, date=date,
                                    storey_height_m=settings.storey_height_m, to_crs=to_crs,
                                    progress=bar, meta=meta)
    data = {
        "output": str(output), "method": method, "footprints": result.n_footprints,
        "tiles": result.n_tiles, "seam_pieces": result.n_seam_pieces,
        "seam_pieces_merged": result.n_seam_merged, "megapixels": round(result.megapixels, 3),
        "image_id": result.image_id, "image_date": result.image_date,
    }
    if card and card.get("held_out"):
        data["classifier_held_out"] = card["held_out"]
    if load:
        from gis.importing.footprints import load_footprints

        loaded = load_footprints(app.connect(), output, method=method, settings=settings,
                                 source_name=result.image_id, file_hash="features")
        data["load"] = {"batch_id": loaded.batch_id, "n_loaded": loaded.report.n_loaded,
                        "srid": loaded.srid, "already_imported": loaded.already_imported}
    text = (f"{result.n_footprints} footprints from {result.megapixels:.1f} Mpx "
            f"({result.n_tiles} tiles, {result.n_seam_merged} seam pieces merged) -> {output}")
    if "classifier_held_out" in data:
        h = data["classifier_held_out"]
        text += f"\nclassifier held-out pixel accuracy {h['accuracy']:.3f}, F1 {h['f1']:.3f}"
    if load:
        text += f"\nloaded {data['load']['n_loaded']} as batch {data['load']['batch_id']}"
    emit(data, as_json, text)


@footprints.command()
@click.argument("pred", type=_file)
@click.argument("ref", type=_file)
@click.option("--iou", type=float, default=0.5, show_default=True, help="Object match IoU threshold.")
@click.option("--parcels", type=_file, help="Parcels for the per-parcel built-area error.")
@json_option
def assess(pred, ref, iou, parcels, as_json):
    """Accuracy of PRED footprints against REF: precision, recall, F1, IoU, area error."""
    from remote_sensing.assess import assess as run
    from remote_sensing.io import read_footprints

    r = run(read_footprints(pred), read_footprints(ref), iou_threshold=iou,
            parcels=read_footprints(parcels) if parcels else None)
    text = (f"objects (IoU >= {iou:g}): {r['tp']} matched of {r['n_pred']} predicted, {r['n_ref']} reference\n"
            f"precision {r['precision']:.4f}  recall {r['recall']:.4f}  F1 {r['f1']:.4f}\n"
            f"mean matched IoU {r['mean_iou']:.4f}  pixel IoU {r['pixel_iou']:.4f}\n"
            f"built area {r['pred_area_m2']:.1f} m² vs {r['ref_area_m2']:.1f} m² "
            f"(error {100 * r['built_area_error']:+.2f} %)")
    if "per_parcel" in r:
        pp = r["per_parcel"]
        text += (f"\nper parcel ({pp['n_with_buildings']} with buildings): |error| median "
                 f"{pp['abs_error_m2']['p50']:.1f} m², 90th pct {pp['abs_error_m2']['p90']:.1f} m²; "
                 f"{100 * pp['share_within_5pct']:.1f} % within 5 %")
    emit(r, as_json, text)


@footprints.command()
@click.argument("old", type=_file)
@click.argument("new", type=_file)
@click.option("-o", "--output", required=True, type=_file, help="Changes (.gpkg).")
@click.option("--min-area", type=float, default=20.0, show_default=True, help="Smallest change reported (m²).")
@click.option("--parcels", type=_file, help="Also write per-parcel built-area change (layer parcel_change).")
@click.option("--parcel-id", help="Parcel id column (default: row number).")
@overwrite_option
@json_option
def change(old, new, output, min_area, parcels, parcel_id, overwrite, as_json):
    """New, demolished and expanded buildings between OLD and NEW footprints."""
    import pyogrio

    from gis.atomic import atomic_output
    from remote_sensing.change import detect_changes, parcel_change
    from remote_sensing.io import read_footprints

    o, n = read_footprints(old), read_footprints(new)
    changes = detect_changes(o, n, min_area_m2=min_area)
    per_parcel = None
    if parcels:
        p = read_footprints(parcels)
        per_parcel = parcel_change(o, n, p, id_column=parcel_id)
    with atomic_output(output, overwrite=overwrite) as tmp:
        pyogrio.write_dataframe(changes, tmp, layer="changes", driver="GPKG")
        if per_parcel is not None:
            pyogrio.write_dataframe(per_parcel, tmp, layer="parcel_change", driver="GPKG", append=True)
    counts = changes["change"].value_counts().to_dict()
    data = {"output": str(output), "counts": {k: int(counts.get(k, 0)) for k in ("new", "demolished", "expanded")},
            "area_m2": {k: float(v) for k, v in changes.groupby("change")["area_m2"].sum().items()}}
    if per_parcel is not None:
        data["parcels_changed"] = int((per_parcel["change_m2"].abs() > 0).sum())
    emit(data, as_json, f"new {data['counts']['new']}, demolished {data['counts']['demolished']}, "
                        f"expanded {data['counts']['expanded']} -> {output}")
