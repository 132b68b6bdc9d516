"""The one error root of mujun.

Every error mujun raises on purpose derives from :class:`MujunError`. Narrow
subclasses mix in the built-in exception they resemble, so callers may catch
either. Foreign errors (psycopg, GDAL, PROJ) are translated where they cross
into mujun and chained with ``raise ... from``.

Messages say what was wrong, where (file, layer, row or feature number) and
what to do about it. The CLI prints them as one line on stderr and exits with
:attr:`MujunError.exit_code`.
"""

from __future__ import annotations


class MujunError(Exception):
    """Root of all mujun errors."""

    #: Process exit code used by the CLI.
    exit_code: int = 1


class ConfigError(MujunError, ValueError):
    """A setting, option or configuration file is invalid."""

    exit_code = 2


class DataError(MujunError, ValueError):
    """Input data is unusable: wrong format, missing CRS, bad values.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    source : str, optional
        File, table or layer at fault; prefixed to the message.
    location : str, optional
        Row, feature or window at fault (e.g. ``"row 12"``); follows the source.
    """

    exit_code = 3

    def __init__(self, message: str, *, source: str | None = None, location: str | None = None):
        self.source = source
        self.location = location
        self.reason = message
        where = ", ".join(str(p) for p in (source, location) if p)
        super().__init__(f"{where}: {message}" if where else message)


class CRSError(DataError):
    """Missing, unknown or implausible coordinate reference system."""


class DriverError(DataError):
    """No OGR/GDAL driver can read or write the given file."""


class EmptyInputError(DataError):
    """The input holds no usable features or rows."""


class ImportRejected(DataError):
    """An import found errors, so nothing was written.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    report : gis.importing.report.ImportReport, optional
        Every issue found, for ``--json`` output and rejects files.
    """

    def __init__(self, message: str, *, source: str | None = None,
                 location: str | None = None, report: object | None = None):
        super().__init__(message, source=source, location=location)
        self.report = report


class RuleFileError(ConfigError):
    """A YAML rule file (rule set, land rules, mapping file) is invalid.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    source : str, optional
        The file (or preset name).
    line : int, optional
        1-based line of the offending key or value.
    key : str, optional
        Dotted path of the key at fault, e.g. ``populations.large.items.tax_per_mu.weight``.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 key: str | None = None):
        self.source = source
        self.line = line
        self.key = key
        self.reason = message
        where = ", ".join(p for p in (source, f"line {line}" if line else None, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class MappingError(RuleFileError):
    """A column mapping (``--map``, ``--id-field`` or a mapping YAML file) is invalid."""


class OutputExistsError(MujunError, FileExistsError):
    """An output exists and ``overwrite`` was not requested."""

    exit_code = 4


class OutputError(MujunError, OSError):
    """An output cannot be written (read-only or missing folder, disk full)."""

    exit_code = 4


class DatabaseError(MujunError, RuntimeError):
    """The database cannot be reached or refused an operation."""

    exit_code = 5


class ServerError(DatabaseError):
    """The project's local PostgreSQL server cannot be set up, started or stopped."""


class MigrationError(DatabaseError):
    """A schema migration failed or the schema is newer than this code."""
