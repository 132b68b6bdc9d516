"""What every import shares: source hashing, the all-or-nothing rule, results.

Every import runs the same way:

1. hash the source (all files of a Shapefile, every file of a FileGDB);
   a finished batch of the same kind with the same hash means the file is
   already loaded: nothing is written and the result says which batch;
2. read and check everything, collecting issues in an
   :class:`~parcels.importing.report.ImportReport`;
3. :func:`settle`: any error rejects the whole import
   (:class:`~parcels.errors.ImportRejected` naming the rows and reasons) unless
   ``accept_partial``, in which case rejected rows are dropped and listed in a
   rejects file;
4. write in one transaction (batch row, rows, counts) and commit; a dry run
   rolls back instead.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parcels.errors import ImportRejected
from parcels.importing.report import ImportReport, write_rejects

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
        """Human summary for the terminal."""
        r = self.report
        if self.already_imported:
            return (f"{self.source}: already imported as batch {self.batch_id}; "
                    "nothing changed")
        head = "dry run (nothing written)" if self.dry_run else f"batch {self.batch_id}"
        lines = [
            f"{self.source}: {head}: read {r.n_read} {r.unit}s, "
            f"loaded {r.n_loaded} ({r.n_inserted} new, {r.n_updated} changed, "
            f"{r.n_unchanged} unchanged), rejected {len(r.rejected_rows)}, "
            f"{len(r.warnings)} warnings"
        ]
        if self.srid:
            lines.append(f"stored in EPSG:{self.srid}")
        counts = r.counts()
        if counts:
            lines.append("findings: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for issue in [i for i in r.issues if i.severity != "info"][:20]:
            lines.append(f"  {issue.severity}: {r.describe(issue)}")
        if len(r.issues) > 20:
            lines.append(f"  ... {len(r.issues) - 20} more (see --json or the batch report)")
        if self.rejects_path:
            lines.append(f"rejects written to {self.rejects_path}")
        return "\n".join(lines)


def earlier_import(conn, kind: str, path: str | Path, source: str, report: ImportReport, *,
                   dry_run: bool) -> tuple[str, ImportResult | None]:
    """The file's SHA-256, and the result to return when it was imported before.

    A repeated import changes nothing: the caller returns that result (its
    transaction rolled back) instead of reading the file.
    """
    from gis.db.batches import find_batch_by_sha

    sha = file_sha256(path)
    existing = find_batch_by_sha(conn, kind, sha)
    if existing is None:
        return sha, None
    conn.rollback()
    return sha, ImportResult(kind, source, report, batch_id=existing, already_imported=True,
                             dry_run=dry_run)


def close_batch(conn, batch_id: int, report: ImportReport, *, n_loaded: int, inserted: int,
                updated: int = 0, dry_run: bool) -> None:
    """Record the counts and report on the batch, then commit (or roll back a dry run)."""
    from gis.db.batches import finish_batch

    report.n_loaded = n_loaded
    report.n_inserted, report.n_updated = inserted, updated
    report.n_unchanged = n_loaded - inserted - updated
    finish_batch(conn, batch_id, n_read=report.n_read, n_loaded=n_loaded,
                 n_rejected=len(report.rejected_rows), n_warnings=len(report.warnings),
                 report=report.to_dict())
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
        raise ImportRejected(report.first_errors_text() + "; nothing was written",
                             source=source, report=report)
    if errors and not accept_partial:
        raise ImportRejected(
            f"{len(report.rejected_rows)} {report.unit}(s) have errors, nothing was written: "
            f"{report.first_errors_text()}. Fix them, or load the good {report.unit}s with "
            "--accept-partial (rejected ones go to a rejects file)",
            source=source, report=report)
    if report.n_read and len(report.rejected_rows) >= report.n_read:
        raise ImportRejected(f"every {report.unit} was rejected: {report.first_errors_text()}",
                             source=source, report=report)
    if errors and rejects is not None:
        return write_rejects(report, rejects, overwrite=overwrite)
    return None


def default_rejects_path(src: str | Path) -> Path:
    """``<src stem>.rejects.csv`` beside the source."""
    src = Path(src)
    return src.with_name(src.stem + ".rejects.csv")
