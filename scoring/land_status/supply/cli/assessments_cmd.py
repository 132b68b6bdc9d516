"""``mujun import assessments``: area-wide assessments (区域评估) through the import pipeline."""

from __future__ import annotations

import click

from gis.cli.options import emit, polygon_layer_options


@click.command("assessments")
@polygon_layer_options
@click.pass_obj
def assessments(app, src, layer, crs, encoding, swap_xy, dry_run, accept_partial, rejects,
                overwrite, as_json) -> None:
    """Import area-wide assessments (区域评估): topic, conclusion, validity, polygon.

    \b
    Topics: 环境影响评价, 节能评估, 地质灾害危险性评估, 地震安全性评价, 水资源论证,
    水土保持, 文物考古调查, 洪水影响评价 (or environment, energy, geohazard, seismic,
    water, soil, relics, flood). A plot inherits those it lies in. The same steps as
    every import: lock, identity, CRS checks, a report, --dry-run, --accept-partial.
    """
    from gis.importing.common import default_rejects_path
    from scoring.land_status.supply.assessments import load_assessments

    if accept_partial and rejects is None:
        rejects = str(default_rejects_path(src))
    result = load_assessments(app.connect(), src, layer=layer, crs=crs, encoding=encoding,
                              swap_xy=swap_xy, dry_run=dry_run, accept_partial=accept_partial,
                              rejects=rejects, overwrite=overwrite, settings=app.settings)
    emit(result.to_dict(), as_json, result.text())
