"""Approved conversions (批次) for the 批而未供 rule: ``mujun candidates approvals FILE``.

A polygon layer with, per approval, its code (批次号/批准文号) and date (批准日期), and
optionally the town and purpose. It goes through the same steps as every import
(:mod:`gis.importing.common`): the ``approvals`` import lock and the import's identity
(file hash and reading options: the same file read the same way changes nothing), the
read with its CRS checks (:func:`gis.importing.layers.read_layer`: declared CRS, swapped
axes, every feature against the CRS's area of use, repair, reprojection to the working
CRS), per-feature checks collected in an :class:`~gis.importing.report.ImportReport`,
the all-or-nothing rule (``accept_partial`` loads the good features and writes a rejects
file), and one transaction that records the ``approvals`` batch with its report — or
a dry run that writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from gis.importing.common import ImportResult

KIND = "approvals"
#: field -> header synonyms (compared case-insensitively, spaces ignored).
SYNONYMS = {
    "approval_code": ["批次号", "批次编号", "批准文号", "批复文号", "批次名称", "approval_code", "code"],
    "approved_date": ["批准日期", "批复日期", "批准时间", "approved_date", "date"],
    "town": ["镇", "乡镇", "镇街", "镇(街道)", "town"],
    "purpose": ["用途", "批准用途", "purpose"],
}


def check_approvals(frame: Any, cols: dict[str, str], report: Any) -> tuple[list, list]:
    """Approval codes and dates per feature; a missing code or an unreadable date is an
    error of that feature in ``report`` (pure).

    Returns
    -------
    codes, dates : lists (None where the feature is rejected)
    """
    from gis.importing.values import is_blank, parse_date

    codes, dates = [], []
    for i, rec in enumerate(frame[[cols[k] for k in ("approval_code", "approved_date")]]
                            .itertuples(index=False, name=None), 1):
        code, raw_date = rec
        code = None if is_blank(code) or not str(code).strip() else str(code).strip()
        if code is None:
            report.add(i, "missing_approval_code", "error", "no approval code",
                       field=cols["approval_code"])
        date, problem = parse_date(raw_date)
        if date is None:
            report.add(i, "bad_approval_date", "error", problem or "no approval date",
                       field=cols["approved_date"], value=raw_date)
        codes.append(code)
        dates.append(date)
    return codes, dates


def _attributes(frame: Any, cols: dict[str, str], report: Any) -> dict[str, list]:
    from gis.importing.polygon_layer import text_column

    codes, dates = check_approvals(frame, cols, report)
    return {"approval_code": codes, "approved_date": dates,
            "town": text_column(frame, cols, "town"),
            "purpose": text_column(frame, cols, "purpose")}


def load_approvals(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                   crs: Any = None, encoding: str | None = None, swap_xy: bool = False,
                   dry_run: bool = False, accept_partial: bool = False,
                   rejects: str | Path | None = None, overwrite: bool = False,
                   settings: Any = None, progress: Any = None) -> ImportResult:
    """Load an approvals layer into ``land_approval`` as one batch (commits, or rolls back
    a dry run) through :func:`gis.importing.polygon_layer.load_polygon_layer`.

    Parameters
    ----------
    layer, crs, encoding, swap_xy : see :func:`gis.importing.layers.read_layer`.
    dry_run : bool
        Check and count everything, write nothing.
    accept_partial : bool
        Load the good features, list rejected ones in ``rejects``.
    rejects : path, optional
        Rejects CSV (with ``accept_partial``).

    Returns
    -------
    ImportResult

    Raises
    ------
    ImportRejected
        A feature without code, date or usable polygon (named by number), and no
        ``accept_partial``: nothing is written.
    DataError
        Missing columns; no parcels loaded yet (no working CRS).
    """
    from gis.importing.polygon_layer import load_polygon_layer

    return load_polygon_layer(
        conn, KIND, "land_approval", path, synonyms=SYNONYMS,
        required=("approval_code", "approved_date"), attributes=_attributes,
        what="approvals", layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
        dry_run=dry_run, accept_partial=accept_partial, rejects=rejects,
        overwrite=overwrite, settings=settings, progress=progress)
