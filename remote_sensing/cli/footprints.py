"""``mujun footprints``: extract building footprints from imagery, assess them, find change.

Each command parses its options and calls one tool in :mod:`remote_sensing.tools`.
"""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option
from remote_sensing.masks import MASK_METHODS

_file = click.Path(dir_okay=False, path_type=Path)


@click.group()
def footprints() -> None:
    """Building footprints: extract from imagery, assess against a reference, change."""


@footprints.command()
@click.option("--method", type=click.Choice(list(MASK_METHODS)),
              help="Mask method (default: from the inputs given).")
@click.option("--image", type=_file, help="Orthophoto / satellite image (RGB, RGBN or pan).")
@click.option("--ndsm", type=_file, help="Height above ground raster (nDSM).")
@click.option("--dsm", type=_file, help="Surface model (with --dtm instead of --ndsm).")
@click.option("--dtm", type=_file, help="Terrain model (with --dsm).")
@click.option("--mask", "mask_path", type=_file,
              help="Given building classification/probability raster.")
@click.option("--threshold", type=float, help="Mask method: value >= this is building (default 0.5).")
@click.option("--height-threshold", type=float,
              help="nDSM method: metres above ground (default: setting height_threshold_m).")
@click.option("--ndvi-threshold", type=float, default=0.3, show_default=True,
              help="nDSM method with an RGBN --image: greener pixels are vegetation.")
@click.option("--no-vegetation-filter", is_flag=True, help="nDSM method: do not exclude vegetation.")
@click.option("--train", type=_file, help="Classify: reference footprints to learn from.")
@click.option("--train-area", type=_file, help="Classify: polygon(s) where the reference is complete.")
@click.option("--model", type=_file,
              help="Classify: saved model (.joblib); onnx: model (.onnx) with its card.")
@click.option("--save-model", type=_file,
              help="Classify: save the trained model (.joblib + .json card; never replaced "
                   "without --overwrite).")
@click.option("--min-area", type=float, default=8.0, show_default=True,
              help="Drop blobs smaller than this (m²).")
@click.option("--tile-size", type=click.IntRange(64), help="Tile side in pixels (default 1024).")
@click.option("--overlap", type=click.IntRange(0), default=32, show_default=True,
              help="Tile overlap in pixels.")
@click.option("--workers", type=click.IntRange(1),
              help="Worker processes (default: CPU count, max 4).")
@click.option("--no-regularize", is_flag=True, help="Keep traced outlines as they are.")
@click.option("--regularize-tolerance", type=float, default=0.1, show_default=True,
              help="Keep a regularized outline only if its area changes less than this share.")
@click.option("--tta", type=click.Choice(["1", "2", "4", "8"]),
              help="ONNX method: flips/rotations averaged per model tile (default: the model "
                   "card's; 1 is fastest, each step doubles the model's work).")
@click.option("--date", help="Image date YYYY-MM-DD (default: from the image metadata).")
@click.option("--image-id", help="Image identifier stored with each footprint (default: file name).")
@click.option("--to-crs", help="Output CRS (default: the image CRS).")
@click.option("-o", "--output", required=True, type=_file,
              help="Output footprints (.gpkg, .fgb, .shp, .geojson, .csv).")
@click.option("--load", is_flag=True, help="Also load the footprints into PostGIS as one import batch.")
@overwrite_option
@json_option
@click.pass_obj
def extract(app, method, image, ndsm, dsm, dtm, mask_path, threshold, height_threshold,
            ndvi_threshold, no_vegetation_filter, train, train_area, model, save_model, min_area,
            tile_size, overlap, workers, no_regularize, regularize_tolerance, tta, date, image_id,
            to_crs, output, load, overwrite, as_json):
    """Extract building footprints from imagery into OUTPUT (written atomically)."""
    from gis.progress import progress_bar
    from remote_sensing.tools.extract import extract_to_file, plan_extraction

    plan = plan_extraction(
        output, method=method, image=image, ndsm=ndsm, dsm=dsm, dtm=dtm, mask=mask_path,
        model=model, train=train, train_area=train_area, save_model=save_model,
        overwrite=overwrite, threshold=threshold, height_threshold=height_threshold,
        ndvi_threshold=None if no_vegetation_filter else ndvi_threshold, min_area_m2=min_area,
        tile_size=tile_size, overlap=overlap, workers=workers, regularize=not no_regularize,
        regularize_tolerance=regularize_tolerance, image_id=image_id, date=date, to_crs=to_crs,
        tta=None if tta is None else int(tta), settings=app.settings)
    with progress_bar(plan.n_tiles, "提取", "块", app.settings.progress) as bar:
        data = extract_to_file(plan, progress=bar)
    if load:
        from remote_sensing.tools.extract import load_extraction

        data["load"] = load_extraction(app.connect(), plan, data, settings=app.settings)
    text = (f"提取建筑基底 {data['footprints']:,} 个，影像 {data['megapixels']:.1f} 百万像元"
            f"（{data['tiles']} 块，接缝处合并 {data['seam_pieces_merged']} 片）→ {output}")
    if "classifier_held_out" in data:
        h = data["classifier_held_out"]
        text += (f"\n像元分类器留出检验：准确率 {h['accuracy']:.3f}，F1 {h['f1']:.3f}"
                 "（按像元、均衡抽样；真实影像上按建筑计的精度低得多：见 docs/footprints.md「Accuracy」）")
    if load and data["load"]["already_imported"]:
        text += f"\n已作为第 {data['load']['batch_id']} 批导入过，未作改动"
    elif load:
        text += f"\n已入库 {data['load']['n_loaded']:,} 个，第 {data['load']['batch_id']} 批"
    emit(data, as_json, text)


@footprints.command()
@click.argument("pred", type=_file)
@click.argument("ref", type=_file)
@click.option("--iou", type=float, default=0.5, show_default=True, help="Object match IoU threshold.")
@click.option("--parcels", type=_file, help="Parcels for the per-parcel built-area error.")
@json_option
def assess(pred, ref, iou, parcels, as_json):
    """Accuracy of PRED footprints against REF: precision, recall, F1, IoU, area error."""
    from remote_sensing.tools.assess import assess_files

    r = assess_files(pred, ref, iou_threshold=iou, parcels=parcels)
    text = (f"按建筑（IoU ≥ {iou:g}）：提取 {r['n_pred']:,} 个，参考 {r['n_ref']:,} 个，匹配 {r['tp']:,} 个\n"
            f"精确率 {r['precision']:.4f}  召回率 {r['recall']:.4f}  F1 {r['f1']:.4f}\n"
            f"匹配对平均 IoU {r['mean_iou']:.4f}  像元 IoU {r['pixel_iou']:.4f}\n"
            f"建筑基底面积 {r['pred_area_m2']:,.1f} 平方米，参考 {r['ref_area_m2']:,.1f} 平方米"
            f"（误差 {100 * r['built_area_error']:+.2f} %）")
    if "per_parcel" in r:
        pp = r["per_parcel"]
        text += (f"\n按宗地（有建筑的 {pp['n_with_buildings']:,} 宗）：面积误差绝对值中位数 "
                 f"{pp['abs_error_m2']['p50']:.1f} 平方米，第 90 百分位 {pp['abs_error_m2']['p90']:.1f} "
                 f"平方米；误差在 5 % 以内的占 {100 * pp['share_within_5pct']:.1f} %")
    emit(r, as_json, text)


@footprints.command()
@click.argument("old", type=_file)
@click.argument("new", type=_file)
@click.option("-o", "--output", required=True, type=_file, help="Changes (.gpkg).")
@click.option("--min-area", type=float, default=20.0, show_default=True,
              help="Smallest change reported (m²).")
@click.option("--parcels", type=_file,
              help="Also write per-parcel built-area change (layer parcel_change).")
@click.option("--parcel-id", help="Parcel id column (default: row number).")
@overwrite_option
@json_option
def change(old, new, output, min_area, parcels, parcel_id, overwrite, as_json):
    """New, demolished and expanded buildings between OLD and NEW footprints."""
    from remote_sensing.tools.change import change_files

    data = change_files(old, new, output, min_area_m2=min_area, parcels=parcels,
                        parcel_id=parcel_id, overwrite=overwrite)
    c = data["counts"]
    emit(data, as_json, f"新建 {c['new']:,} 栋，拆除 {c['demolished']:,} 栋，"
                        f"扩建 {c['expanded']:,} 栋 → {output}")


from remote_sensing.cli.train import train as _train  # noqa: E402  (training: its own module)

footprints.add_command(_train)
