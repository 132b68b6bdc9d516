"""Per-invocation state of the CLI: settings and the one database connection.

The connection is created once, at the edge, on first use, and handed to
library functions; library code never opens connections itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings


class AppContext:
    """What every subcommand gets as ``ctx.obj``."""

    def __init__(self, verbosity: int = 0, overrides: dict[str, Any] | None = None):
        self.verbosity = verbosity
        self._overrides = dict(overrides or {})
        self._settings: Settings | None = None
        self._conn: psycopg.Connection | None = None

    @property
    def settings(self) -> Settings:
        """Settings resolved once per invocation."""
        if self._settings is None:
            from gis.settings import load_settings

            self._settings = load_settings(self._overrides)
        return self._settings

    def connect(self, *, migrate: bool = True) -> psycopg.Connection:
        """Return the invocation's database connection, starting the local cluster if needed.

        Parameters
        ----------
        migrate : bool
            Apply pending schema migrations first (default). ``mujun db`` turns this off.
        """
        if self._conn is None:
            from gis.db.database import open_database

            self._conn = open_database(self.settings, migrate=migrate)
        return self._conn

    def close(self) -> None:
        """Close the connection if one was opened."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
