"""``mujun footprints train``: learn a building segmentation model from a past survey."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option

_file = click.Path(dir_okay=False, path_type=Path)


def _widths(ctx, param, value):
    try:
        widths = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("give channel widths as integers, e.g. 16,32,64") from None
    if len(widths) < 2 or min(widths) < 1:
        raise click.BadParameter("give at least two positive widths, e.g. 16,32,64")
    return widths


@click.command()
@click.option("--image", required=True, multiple=True, type=_file,
              help="Orthophoto to learn from (RGB, RGBN or pan); repeat for several places (same bands).")
@click.option("--labels", required=True, multiple=True, type=_file,
              help="Surveyed building footprints over the image (any CRS); one per --image, in order.")
@click.option("--area", multiple=True, type=_file,
              help="Polygon(s) where the survey is complete (default: the labels' extent); one for all "
                   "images or one per --image.")
@click.option("--resolution", type=click.FloatRange(min=0.01), default=None,
              help="Ground resolution of the model in metres (images are resampled to it); default: "
                   "the finest image's, at least 0.25.")
@click.option("--init-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Start from this model (written by footprints train) and fine-tune it on these images.")
@click.option("--bands", help="1-based bands to use, e.g. 1,2,3 (default: all but an alpha band, "
                               "which only says where the image is valid).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Most epochs (rounds of random patches between two validations; default: no "
                   "limit but --max-minutes); training stops earlier when validation stops improving.")
@click.option("--patience", type=int, default=8, show_default=True, help="Epochs without validation improvement before stopping.")
@click.option("--min-steps", type=click.IntRange(min=0), default=600, show_default=True,
              help="Optimisation steps before early stopping may end training or an epoch be kept as the best.")
@click.option("--tta", type=click.Choice(["1", "2", "4", "8"]), default="4", show_default=True,
              help="Test-time augmentation written into the card: flips/rotations averaged per model tile (1 = none).")
@click.option("--tune-postprocess/--no-tune-postprocess", default=None,
              help="Choose the hysteresis and interior seed thresholds on the validation stripes "
                   "(default: when they hold at least 30 labelled buildings).")
@click.option("--widths", default="16,32,64,128", show_default=True, callback=_widths,
              help="Channels per U-Net level (more levels see more context; wider is slower).")
@click.option("--encoder", type=click.Choice(["auto", "none", "efficientnet-lite0"]), default="auto",
              show_default=True,
              help="Encoder of the network: EfficientNet-Lite0 pretrained on ImageNet (RGB 8-bit images "
                   "only; its weights ship with mujun's dependencies; --widths then default to the "
                   "decoder's 16,32,48,64,112), the U-Net's own (none), or auto: the pretrained one "
                   "when every image gives three 8-bit bands (RGB, or RGBA with its alpha).")
@click.option("--edge-band", type=float, default=1.0, show_default=True,
              help="Metres on each side of a label edge where the labels are not trusted.")
@click.option("--edge-weight", type=float, default=0.25, show_default=True,
              help="Loss weight inside that band (0 ignores it; labels are imperfect).")
@click.option("--min-area", type=float, default=8.0, show_default=True, help="Smallest building (m²) in validation.")
@click.option("--max-minutes", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Stop training after this long (the best epoch so far is kept); the learning rate "
                   "decreases over this time.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (weights, patches, augmentation).")
@click.option("--average", type=click.FloatRange(min=0.0, max=1.0, max_open=True), default=0.99, show_default=True,
              help="Keep the moving average of the weights with this decay per step (about the last "
                   "1/(1 - decay) steps; 0 keeps the last step's weights).")
@click.option("--no-interior", is_flag=True,
              help="Learn the building map only, without the interior output that splits touching roofs "
                   "(for imagery where the two-output network does not learn: see docs/footprints.md).")
@click.option("-o", "--output", required=True, type=_file, help="Model file (.onnx); its card is written next to it (.json).")
@overwrite_option
@json_option
@click.pass_obj
def train(app, image, labels, area, resolution, init_from, bands, epochs, patience, min_steps, tta, tune_postprocess, widths, encoder, edge_band, edge_weight, min_area, max_minutes,
          seed, average, no_interior, output, overwrite, as_json):
    """Train a building segmentation model (ONNX + model card) from an image and a survey.

    A compact U-Net with two outputs (the building and its interior, which separates
    touching roofs) is fitted on the CPU (or a GPU when JAX has one) on random patches
    with flips, rotations and brightness changes, a band around label edges down-weighted
    (surveys are a little off), and a held-back validation stripe per image for early
    stopping and the scores in the card. Several --image/--labels pairs make one model for
    several places. Use the model with
    ``mujun footprints extract --method onnx --image NEW.tif --model OUTPUT``.
    """
    from gis.errors import ConfigError
    from gis.progress import progress_bar
    from remote_sensing.training.compile_cache import use_compile_cache
    from remote_sensing.training.train import TrainOptions, train_to_file
    from remote_sensing.training.vocabulary import STOPPED

    band_list = None
    if bands:
        try:
            band_list = [int(b) for b in bands.split(",")]
        except ValueError:
            raise ConfigError(f"--bands {bands!r}: give 1-based band numbers like 1,2,3") from None
    opts = TrainOptions(widths=widths, max_epochs=epochs, patience=patience, min_steps=min_steps,
                        tta=int(tta), tune_postprocess=tune_postprocess, edge_band_m=edge_band,
                        edge_weight=edge_weight, min_area_m2=min_area, seed=seed,
                        max_seconds=max_minutes * 60, resolution=resolution, interior=not no_interior,
                        average=average, encoder=None if encoder == "none" else encoder)
    use_compile_cache(app.settings.home_path / "cache" / "jax")
    with progress_bar(round(max_minutes * 60), "训练", "秒", app.settings.progress) as bar:
        result, model_path, card_path = train_to_file(list(image), list(labels), output, area=list(area) or None,
                                                      bands=band_list, options=opts, overwrite=overwrite,
                                                      progress=bar, init_from=init_from)
    card = result.card
    v = card["validation"]
    data = {"model": str(model_path), "card": str(card_path), **{k: card[k] for k in (
        "bands", "resolution", "labelled_buildings", "validation", "training", "architecture")}}
    lb, tr = card["labelled_buildings"], card["training"]
    stopped = STOPPED.label(tr["stopped"])
    text = (f"模型 → {model_path}（模型卡 {card_path.name}）\n"
            f"训练范围内有标注建筑 {lb['in_area']:,} 栋（训练用 {lb['train']:,} 栋，验证条带内 "
            f"{lb['validation']:,} 栋）；共 {tr['epochs']} 轮（{stopped}，保留第 {tr['best_epoch']} 轮），"
            f"用时 {tr['seconds']:.0f} 秒（CPU {tr['cpu_seconds']:.0f} 秒），模型分辨率 {card['resolution']:g} 米/像元，"
            f"波段 {','.join(map(str, card['bands']))}"
            + ("（alpha 波段只标明影像的有效范围，不参与训练）" if card.get("alpha_bands") else "")
            + (f"，编码器为 ImageNet 预训练的 {card['architecture']['encoder']}"
               if card["architecture"].get("encoder") else "") + "\n"
            f"验证：像元 F1 {v['pixel_f1']:.3f}")
    if "object_f1" in v:
        text += (f"，按建筑 F1 {v['object_f1']:.3f}（IoU ≥ 0.5），匹配对平均 IoU {v['matched_iou']:.3f}，"
                 f"建筑基底面积误差 {100 * v['built_area_error']:+.1f} %")
    if tr.get("fine_tuned_from") and tr["best_epoch"] == 0:
        text += (f"\n没有一轮在验证条带上好于起点模型 {tr['fine_tuned_from']}：保留其权重"
                 "（训练更久，或用本次调查的更多范围，才可能超过它）")
    emit(data, as_json, text)
