"""What an import found: issues by row or feature, severity and reason.

Every check appends :class:`Issue` records to an :class:`ImportReport`.
Severity ``error`` rejects the row (and, without ``--accept-partial``, the
whole import); ``warning`` is listed and the row loads; ``info`` is listed
for review (e.g. certificate vs measured area). Rejects files are CSV
(UTF-8 with BOM so Excel opens the Chinese text) with one line per issue.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: Check name -> how a count of them reads ("80 duplicate parcel codes").
#: Domain packages add their own checks' labels (:func:`register_check_labels`).
CHECK_LABELS: dict[str, str] = {
    "empty_geometry": "empty geometries (几何为空)",
    "not_polygon": "geometries that are not polygons (非面要素)",
    "degenerate": "slivers or collapsed geometries (碎片或退化几何)",
    "repaired": "invalid geometries repaired (无效几何已修复)",
    "outside_crs_area": "features outside the CRS's area of use (坐标超出坐标系适用范围)",
    "far_from_stored": "batches far from the data already stored (与库中数据相距过远)",
    "bad_value": "unreadable values (无法识别的值)",
    "absurd_value": "impossible values (不可能的值)",
    "missing_field": "empty required fields (必填字段为空)",
    "duplicate_row": "repeated rows (重复行)",
    "guessed_column": "guessed columns (推测的列)",
    "nan_value": "'nan' texts read as empty ('nan' 文本按空值读取)",
    "rounded": "values rounded (数值已取整)",
}


def register_check_labels(labels: Mapping[str, str]) -> None:
    """Add the labels of a domain's checks (called by its import entry points)."""
    CHECK_LABELS.update(labels)


def check_label(check: str) -> str:
    """How a count of ``check`` issues reads.

    Examples
    --------
    >>> check_label("empty_geometry"), check_label("some_new_check")
    ('empty geometries (几何为空)', 'some new check')
    """
    return CHECK_LABELS.get(check, check.replace("_", " "))


@dataclass(frozen=True)
class Issue:
    """One finding.

    Attributes
    ----------
    row : int or None
        Row number as the user sees it (spreadsheet row, or feature number in
        the source layer); ``None`` for whole-file findings.
    check : str
        Short machine name of the check (``duplicate_code``, ``overlap`` ...).
    severity : {'error', 'warning', 'info'}
    message : str
        What is wrong and what to do.
    field : str, optional
    value : object, optional
        The offending value, as text.
    """

    row: int | None
    check: str
    severity: Severity
    message: str
    field: str | None = None
    value: Any = None

    @property
    def where(self) -> str:
        """``'row 12'`` style location."""
        return "" if self.row is None else f"{self.row}"


@dataclass
class ImportReport:
    """All findings of one import, plus its counts."""

    source: str = ""
    unit: str = "row"  # "row" for tables, "feature" for layers
    issues: list[Issue] = field(default_factory=list)
    n_read: int = 0
    n_loaded: int = 0
    n_inserted: int = 0
    n_updated: int = 0
    n_unchanged: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, row: int | None, check: str, severity: Severity, message: str,
            field: str | None = None, value: Any = None) -> None:
        """Record one issue."""
        self.issues.append(Issue(row, check, severity, message, field,
                                 None if value is None else str(value)))

    def extend(self, issues: Iterable[Issue]) -> None:
        """Record several issues."""
        self.issues.extend(issues)

    def of(self, severity: Severity) -> list[Issue]:
        """Issues of one severity."""
        return [i for i in self.issues if i.severity == severity]

    @property
    def errors(self) -> list[Issue]:
        """Issues that reject a row."""
        return self.of("error")

    @property
    def warnings(self) -> list[Issue]:
        """Issues that do not reject."""
        return self.of("warning")

    @property
    def rejected_rows(self) -> set[int]:
        """Rows with at least one error."""
        return {i.row for i in self.errors if i.row is not None}

    @property
    def file_errors(self) -> list[Issue]:
        """Errors about the whole file (no row): these reject even partial imports."""
        return [i for i in self.errors if i.row is None]

    def locate(self, issue: Issue) -> str:
        """``'row 12'`` / ``'feature 3'`` for messages."""
        return "" if issue.row is None else f"{self.unit} {issue.row}"

    def describe(self, issue: Issue) -> str:
        """One-line text of an issue."""
        where = self.locate(issue)
        col = f" [{issue.field}]" if issue.field else ""
        return f"{where}{col}: {issue.message}" if where else f"{issue.message}"

    def counts(self) -> dict[str, int]:
        """Issues per check name."""
        return dict(Counter(i.check for i in self.issues))

    def summary(self, severity: Severity = "error", examples: int = 2) -> str:
        """Problems of one severity summarised by kind, then a few examples of each.

        ``"85 features have errors: 80 duplicate parcel codes, 3 empty parcel
        codes, 1 empty geometries, 1 slivers ... (e.g. feature 12: ...)"``
        """
        found = self.of(severity)
        if not found:
            return ""
        by_check = Counter(i.check for i in found)
        parts = [f"{n} {check_label(c)}" for c, n in by_check.most_common()]
        rows = {i.row for i in found if i.row is not None}
        file_level = [i for i in found if i.row is None]
        if rows:
            word = {"error": "have errors", "warning": "have warnings"}.get(severity, "have notes")
            head = f"{len(rows)} {self.unit}s {word}: " if len(rows) != 1 \
                else f"1 {self.unit} {word.replace('have', 'has')}: "
        else:
            head = f"{len(file_level)} {severity}(s): "
        shown = []
        for check, _n in by_check.most_common():
            for issue in [i for i in found if i.check == check][:examples]:
                shown.append(self.describe(issue))
        more = len(found) - len(shown)
        tail = "; e.g. " + "; ".join(shown) + (f"; ... and {more} more" if more > 0 else "")
        return head + ", ".join(parts) + tail

    def first_errors_text(self, limit: int = 5) -> str:
        """The first few errors as text, for the rejection message."""
        errors = self.errors
        lines = [self.describe(i) for i in errors[:limit]]
        more = len(errors) - limit
        if more > 0:
            lines.append(f"... and {more} more")
        return "; ".join(lines)

    def to_dict(self, max_issues: int = 5000) -> dict[str, Any]:
        """JSON-able summary (stored in import_batch.report)."""
        return {
            "source": self.source,
            "n_read": self.n_read,
            "n_loaded": self.n_loaded,
            "n_inserted": self.n_inserted,
            "n_updated": self.n_updated,
            "n_unchanged": self.n_unchanged,
            "n_rejected": len(self.rejected_rows),
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "by_check": self.counts(),
            "issues": [asdict(i) for i in self.issues[:max_issues]],
            "issues_truncated": max(0, len(self.issues) - max_issues),
            **self.extra,
        }


def rejects_csv_text(report: ImportReport) -> str:
    """The rejects file's text: one line per error (and per warning of a rejected row)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([report.unit, "severity", "check", "field", "value", "reason"])
    rejected = report.rejected_rows
    for issue in report.issues:
        if issue.severity == "error" or (issue.row in rejected):
            writer.writerow([issue.row if issue.row is not None else "", issue.severity,
                             issue.check, issue.field or "", issue.value or "", issue.message])
    return buf.getvalue()


def write_rejects(report: ImportReport, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the rejects CSV atomically (UTF-8 with BOM, for Excel).

    Raises
    ------
    gis.errors.OutputExistsError
        The file exists and ``overwrite`` is false.
    """
    from gis.atomic import atomic_output

    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        Path(tmp).write_text(rejects_csv_text(report), encoding="utf-8-sig")
    return path
