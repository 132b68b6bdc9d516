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
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from gis.vocabulary import Vocabulary, register, registered

Severity = Literal["error", "warning", "info"]

#: The terms of the import pipeline: check names, severities, units, rejects columns.
TERMS_FILE = Path(__file__).resolve().parent.parent / "data" / "terms.yaml"

#: Domains of check labels: ``import.check`` here, ``import.check.<package>`` registered by
#: the domain packages' own terms files (``parcels/data/terms.yaml`` …).
CHECK_DOMAIN = "import.check"


def _terms() -> dict[str, Vocabulary]:
    return register("gis", TERMS_FILE)


def check_label(check: str, lang: str = "zh") -> str:
    """What a check is called, from the vocabulary (``import.check`` and the domains the
    packages register as ``import.check.<package>``).

    Examples
    --------
    >>> check_label("empty_geometry"), check_label("empty_geometry", "en")
    ('几何为空', 'empty geometries')
    >>> check_label("some_new_check")          # a check nobody named shows its code
    'some_new_check'
    """
    _terms()
    for domain, vocab in registered().items():
        if (domain == CHECK_DOMAIN or domain.startswith(CHECK_DOMAIN + ".")) and check in vocab:
            return vocab.label(check, lang)
    return check


def severity_label(severity: str) -> str:
    """``错误`` / ``警告`` / ``提示``."""
    return _terms()["import.severity"].label(severity)


def unit_label(unit: str) -> str:
    """``行`` (tables) or ``要素`` (layers)."""
    return _terms()["import.unit"].label(unit)


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
        """``'第 12 行'`` / ``'第 3 个要素'`` for messages."""
        if issue.row is None:
            return ""
        return f"第 {issue.row} 行" if self.unit == "row" else f"第 {issue.row} 个要素"

    def describe(self, issue: Issue) -> str:
        """One-line text of an issue."""
        where = self.locate(issue)
        col = f"（字段 {issue.field}）" if issue.field else ""
        return f"{where}{col}：{issue.message}" if where else f"{issue.message}"

    def counts(self) -> dict[str, int]:
        """Issues per check name."""
        return dict(Counter(i.check for i in self.issues))

    def summary(self, severity: Severity = "error", examples: int = 2) -> str:
        """Problems of one severity summarised by kind, then a few examples of each.

        ``"85 个要素有错误：宗地代码重复 80 处、宗地代码为空 3 处、几何为空 1 处……；例如
        第 12 个要素：…"``
        """
        found = self.of(severity)
        if not found:
            return ""
        by_check = Counter(i.check for i in found)
        parts = [f"{check_label(c)} {n} 处" for c, n in by_check.most_common()]
        rows = {i.row for i in found if i.row is not None}
        file_level = [i for i in found if i.row is None]
        word = severity_label(severity)
        if rows:
            head = f"{len(rows)} {'个要素' if self.unit == 'feature' else '行'}有{word}："
        else:
            head = f"{len(file_level)} 项{word}："
        shown = []
        for check, _n in by_check.most_common():
            for issue in [i for i in found if i.check == check][:examples]:
                shown.append(self.describe(issue))
        more = len(found) - len(shown)
        tail = "；例如 " + "；".join(shown) + (f"；另有 {more} 项" if more > 0 else "")
        return head + "、".join(parts) + tail

    def first_errors_text(self, limit: int = 5) -> str:
        """The first few errors as text, for the rejection message."""
        errors = self.errors
        lines = [self.describe(i) for i in errors[:limit]]
        more = len(errors) - limit
        if more > 0:
            lines.append(f"另有 {more} 项")
        return "；".join(lines)

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
    """The rejects file's text: one line per error (and per warning of a rejected row).

    Headers, severities and checks are written in Chinese from the vocabulary; the
    reason is the check's message.
    """
    columns = _terms()["import.rejects_column"]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([columns.label(c) for c in
                     (report.unit, "severity", "check", "field", "value", "reason")])
    rejected = report.rejected_rows
    for issue in report.issues:
        if issue.severity == "error" or (issue.row in rejected):
            writer.writerow([issue.row if issue.row is not None else "",
                             severity_label(issue.severity), check_label(issue.check),
                             issue.field or "", issue.value or "", issue.message])
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
