"""What every import shares: identity, the all-or-nothing rule, results.

Every import runs the same way:

1. take the import lock of its kind (:func:`gis.db.batches.lock_imports`),
   hash the source (all files of a Shapefile, every file of a FileGDB) and
   combine the hash with every option that changes what is read (layer,
   sheet, encoding, mapping, year, CRS options) into the import's
   *identity* (:func:`import_identity`); a finished batch of the same kind
   and identity means it is already loaded: nothing is written and the
   result says which batch;
2. read and check everything, collecting issues in an
   :class:`~gis.importing.report.ImportReport`;
3. :func:`settle`: any error rejects the whole import
   (:class:`~parcels.errors.ImportRejected` naming the rows and reasons) unless
   ``accept_partial``, in which case rejected rows are dropped and listed in a
   rejects file;
4. write in one transaction (batch row, rows, counts) and commit; a dry run
   rolls back instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import ImportRejected
from gis.importing.report import ImportReport, unit_label, write_rejects

log = logging.getLogger(__name__)

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def source_files(path: str | Path) -> list[Path]:
    """The files that make up a source: a Shapefile's parts, a directory's files, or itself."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        stem = str(path)[: -len(path.suffix)]
        found = []
        for suffix in _SHAPEFILE_PARTS:
            for cand in (Path(stem + suffix), Path(stem + suffix.upper())):
                if cand.exists():
                    found.append(cand)
                    break
        return found
    return [path]


def file_sha256(path: str | Path) -> str:
    """SHA-256 over a source's files (names relative to the source, then contents).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("x")
    >>> len(file_sha256(p))
    64
    """
    path = Path(path)
    digest = hashlib.sha256()
    base = path if path.is_dir() else path.parent
    for f in source_files(path):
        digest.update(str(f.relative_to(base)).lower().encode() if path.is_dir()
                      else f.suffix.lower().encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def content_sha256(path: str | Path, layer: str | None = None) -> str:
    """SHA-256 over a layer's features (geometries and attributes), not the file's bytes.

    Two writes of the same features hash alike even when the container
    stamps its own metadata (a GeoPackage records when it was written): used
    for outputs mujun writes itself and loads again (``footprints extract --load``).
    """
    import pyarrow as pa
    import pyogrio

    digest = hashlib.sha256()
    from gis.vector_io import gdal_path

    with gdal_path(path) as safe, \
            pyogrio.open_arrow(safe, layer=layer, use_pyarrow=True) as (_meta, reader):
        for batch in reader:
            sink = pa.BufferOutputStream()
            table = pa.Table.from_batches([batch]).replace_schema_metadata(None)
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            digest.update(sink.getvalue().to_pybytes())
    return "content:" + digest.hexdigest()


@dataclass
class ImportResult:
    """Outcome of one import."""

    kind: str
    source: str
    report: ImportReport
    batch_id: int | None = None
    already_imported: bool = False
    dry_run: bool = False
    rejects_path: Path | None = None
    srid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (``--json``)."""
        rep = self.report.to_dict(max_issues=200)
        return {
            "kind": self.kind, "source": self.source, "batch_id": self.batch_id,
            "already_imported": self.already_imported, "dry_run": self.dry_run,
            "srid": self.srid,
            "rejects": str(self.rejects_path) if self.rejects_path else None,
            **{k: rep[k] for k in ("n_read", "n_loaded", "n_inserted", "n_updated",
                                   "n_unchanged", "n_rejected", "n_errors", "n_warnings",
                                   "by_check")},
            "issues": rep["issues"], "issues_truncated": rep["issues_truncated"],
            **self.extra,
        }

    def text(self) -> str:
        """Human summary for the terminal: counts, guessed columns, problems by kind."""
        r = self.report
        if self.already_imported:
            return (f"{self.source}：已作为批次 {self.batch_id} 导入过（同一文件、同样的选项），"
                    "未作任何更改")
        head = "试运行（未写入）" if self.dry_run else f"批次 {self.batch_id}"
        unit = unit_label(r.unit)
        lines = [
            f"{self.source}：{head}：读取 {r.n_read} {unit}，"
            f"载入 {r.n_loaded}（新增 {r.n_inserted}、更改 {r.n_updated}、"
            f"未变 {r.n_unchanged}），拒绝 {len(r.rejected_rows)}，"
            f"警告 {len(r.warnings)} 项"
        ]
        if self.srid:
            lines.append(f"存储坐标系 EPSG:{self.srid}")
        for issue in r.issues:
            if issue.check in ("guessed_column", "header", "working_crs"):
                lines.append(f"  说明：{issue.message}")
        for severity, word in (("error", "错误"), ("warning", "警告")):
            text = r.summary(severity, examples=1)
            if text:
                lines.append(f"  {word}：{text}")
        notes = ImportReport(unit=r.unit, issues=[
            i for i in r.of("info") if i.check not in ("guessed_column", "header", "working_crs")])
        if notes.issues:
            lines.append(f"  提示：{notes.summary('info', examples=1)}")
        if self.rejects_path:
            lines.append(f"被拒绝的记录已写入 {self.rejects_path}")
        return "\n".join(lines)


def rollback_quietly(conn) -> None:
    """Roll back after a failure; a connection that is already lost stays quiet.

    The error that ended the import is the one to report: a rollback on a
    connection the server dropped would replace it with "the connection is lost".
    """
    import psycopg

    with contextlib.suppress(psycopg.Error):
        conn.rollback()


def import_identity(kind: str, file_hash: str, options: dict[str, Any] | None = None) -> str:
    """SHA-256 naming one import: the kind, the file's hash and the options that change what is read.

    Options whose value is None are left out, so a default given explicitly
    is the same import as the default left implicit.

    Examples
    --------
    >>> a = import_identity("parcels", "f" * 64, {"layer": "town_a"})
    >>> a == import_identity("parcels", "f" * 64, {"layer": "town_a", "crs": None})
    True
    >>> a == import_identity("parcels", "f" * 64, {"layer": "town_b"})
    False
    """
    clean = {k: v for k, v in sorted((options or {}).items()) if v not in (None, {}, [], "")}
    text = json.dumps([kind, file_hash, clean], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Identity:
    """How a running import is known: file hash, identity, and the earlier batch if any."""

    file_hash: str
    identity: str
    earlier: int | None


def earlier_import(conn, kind: str, path: str | Path, options: dict[str, Any] | None = None, *,
                   file_hash: str | None = None) -> Identity:
    """Lock imports of ``kind``, then find an earlier batch of this file read this way.

    Parameters
    ----------
    conn : psycopg.Connection
        The import's transaction: the lock is held until it ends.
    kind : str
        Batch kind (``parcels``, ``footprints``, ...).
    path : source path (hashed unless ``file_hash`` is given).
    options : dict, optional
        Everything that changes what is read (see :func:`import_identity`).
    file_hash : str, optional
        A known content hash (a sample's digest), to skip hashing the file.
    """
    from gis.db.batches import find_batch_by_identity, lock_imports

    lock_imports(conn, kind)
    sha = file_hash or file_sha256(path)
    identity = import_identity(kind, sha, options)
    return Identity(sha, identity, find_batch_by_identity(conn, kind, identity))


def already_imported(conn, kind: str, source: str, report: ImportReport, batch_id: int, *,
                     dry_run: bool, commit: bool = True) -> ImportResult:
    """The result of an import that was done before (its transaction is ended)."""
    if commit:
        conn.rollback()
    return ImportResult(kind, source, report, batch_id=batch_id, already_imported=True,
                        dry_run=dry_run)


def close_batch(conn, batch_id: int, report: ImportReport, *, n_loaded: int, inserted: int,
                updated: int = 0, dry_run: bool, commit: bool = True) -> None:
    """Record the counts and report on the batch, then commit (or roll back a dry run).

    With ``commit=False`` the caller owns the transaction and ends it.
    """
    from gis.db.batches import finish_batch

    report.n_loaded = n_loaded
    report.n_inserted, report.n_updated = inserted, updated
    report.n_unchanged = n_loaded - inserted - updated
    finish_batch(conn, batch_id, n_read=report.n_read, n_loaded=n_loaded,
                 n_rejected=len(report.rejected_rows), n_warnings=len(report.warnings),
                 report=report.to_dict())
    if not commit:
        return
    if dry_run:
        conn.rollback()
    else:
        conn.commit()


def settle(report: ImportReport, *, accept_partial: bool, source: str,
           rejects: str | Path | None = None, overwrite: bool = False) -> Path | None:
    """Apply the all-or-nothing rule.

    Parameters
    ----------
    report : ImportReport
    accept_partial : bool
        Load good rows and list rejected ones instead of rejecting the import.
    source : str
        File named in the error.
    rejects : path, optional
        Where to write the rejects CSV (only with ``accept_partial``).

    Returns
    -------
    Path or None
        The rejects file written.

    Raises
    ------
    ImportRejected
        Errors and no ``accept_partial``; a file-level error; or no row left.
    """
    errors = report.errors
    if report.file_errors:
        raise ImportRejected("；".join(report.describe(i) for i in report.file_errors)
                             + "；未写入任何数据", source=source, report=report)
    if errors and not accept_partial:
        raise ImportRejected(
            f"未写入任何数据：{report.summary('error')}。请修正后重新导入，或用 --accept-partial "
            f"只载入无误的{unit_label(report.unit)}（被拒绝的写入拒绝清单文件）",
            source=source, report=report)
    if report.n_read and len(report.rejected_rows) >= report.n_read:
        raise ImportRejected(f"每一{unit_label(report.unit)}都被拒绝，未写入任何数据："
                             f"{report.summary('error')}",
                             source=source, report=report)
    if errors and rejects is not None:
        return write_rejects(report, rejects, overwrite=overwrite)
    return None


def default_rejects_path(src: str | Path) -> Path:
    """``<src stem>.rejects.csv`` in the working directory (the source's folder may be read-only).

    Examples
    --------
    >>> import os
    >>> default_rejects_path("/mnt/share/宗地.shp") == Path(os.getcwd()) / "宗地.rejects.csv"
    True
    """
    return Path.cwd() / (Path(src).stem + ".rejects.csv")
