"""Test-wide rules.

* ``shared_data`` tests read ``../shared/data``. They are skipped only when that
  folder is absent *and* ``CI`` is unset; in CI a missing folder is a failure.
* In CI (``CI`` set) any skipped test fails the session: a skipped PostGIS or
  browser test would otherwise hide a failure.
* PostGIS fixtures (``pg_settings``, ``db_dsn``, ``db_conn``) use the real server:
  the project's local cluster (started if needed) or ``MUJUN_DSN``'s server. Each
  test session gets its own freshly migrated database, dropped at the end; a
  server that cannot be reached FAILS the tests that need it, never skips them.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.database_state import DB_STATE, clean_if_dirty, truncate_all

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))

# One compile cache for the whole run (both xdist workers and the mujun processes they start):
# the tests train the same small networks many times, and XLA's compile is most of their time.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      str(Path(tempfile.gettempdir()) / f"mujun-tests-jax-cache-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data`` (real third-party data; never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"CI is set but the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"{SHARED_DATA} not present (a user's clone has no ../shared)")
    return SHARED_DATA


_DB_FIXTURES = {"pg_settings", "db_dsn", "db_conn"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "shared_data" in names:
            item.add_marker(pytest.mark.shared_data)
        if names & _DB_FIXTURES:
            item.add_marker(pytest.mark.postgis)


@pytest.fixture(scope="session")
def pg_settings():
    """Settings of the running PostGIS server: the local cluster (started here if needed).

    With ``MUJUN_DSN`` set, that server is used and no local cluster is started.
    Note: these settings point at the *project* database; tests that write
    should use ``db_dsn``/``db_conn`` (a throw-away database) instead.
    """
    from gis.errors import MujunError
    from gis.settings import load_settings

    try:
        settings = load_settings()
        if not settings.dsn:
            from gis.db.cluster import LocalCluster

            LocalCluster(settings).start()
    except MujunError as exc:
        pytest.fail(f"PostGIS is required for this test and could not be started: {exc}",
                    pytrace=False)
    _ensure_app_role(settings)
    return settings


def _ensure_app_role(settings) -> None:
    """Create the cluster-wide app role before any test database is migrated.

    Migration 0011 creates it when missing; two parallel workers (``pytest -n``)
    migrating their first databases at once would both try. Here a loser's error is
    swallowed and the role exists afterwards either way.
    """
    from gis.db.connection import connect
    from gis.db.roles import ensure_app_role

    with connect(_server_dsn(settings)) as conn:
        ensure_app_role(conn)


def _server_dsn(settings) -> str:
    if settings.dsn:
        return str(settings.dsn)
    from gis.db.cluster import LocalCluster

    return LocalCluster(settings).dsn


@pytest.fixture(scope="session")
def db_dsn(pg_settings) -> Iterator[str]:
    """DSN of a fresh, migrated database for this test session (dropped at the end)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.migrations import migrate
    from gis.errors import MujunError

    server_dsn = _server_dsn(pg_settings)
    name = f"mujun_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with connect(server_dsn, autocommit=True) as admin:
            _drop_orphan_test_databases(admin)
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                          .format(sql.Identifier(name)))
        dsn = make_conninfo(server_dsn, dbname=name)
        with connect(dsn) as conn:
            migrate(conn)
    except (MujunError, psycopg.Error) as exc:
        pytest.fail(f"cannot create the test database {name} on {server_dsn!r}: {exc}",
                    pytrace=False)
    yield dsn
    try:
        with connect(server_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))
    except (MujunError, psycopg.Error):  # pragma: no cover - server gone at teardown
        pass


def _drop_orphan_test_databases(admin) -> None:
    """Drop test databases left by crashed sessions of this machine (their pid is gone)."""
    from psycopg import sql

    rows = admin.execute(
        "SELECT datname FROM pg_database WHERE datname ~ '^mujun_test_[0-9]+_[0-9a-f]+$'"
    ).fetchall()
    for (datname,) in rows:
        pid = int(datname.split("_")[2])
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(datname)))


@pytest.fixture(autouse=True)
def _database_starts_empty(request):
    """Every test that uses the test database finds it empty, whatever ran before it.

    Tests that write through ``db_dsn`` alone (CLI runs) leave their rows behind; the
    next database test in this process, in whatever order the files come (``pytest -n``),
    starts by clearing them, except inside a module whose fixture holds loaded data.
    """
    names = request.fixturenames
    if "db_dsn" not in names:
        yield
        return
    # Autouse, so this runs before the test's other fixtures: a fixture that writes
    # through ``db_dsn`` before ``db_conn`` is built keeps its rows.
    clean_if_dirty(request.getfixturevalue("db_dsn"))
    yield
    if "db_conn" not in names:
        DB_STATE["dirty"] = True


@pytest.fixture
def db_conn(db_dsn):
    """A psycopg connection (autocommit off) to the session's test database.

    It starts empty (see ``_database_starts_empty``). After the test, whatever it left
    is rolled back and every mujun table is truncated (RESTART IDENTITY CASCADE), so
    tests are independent.
    """
    from gis.db.connection import connect

    conn = connect(db_dsn)
    try:
        yield conn
    finally:
        try:
            if not conn.closed:
                conn.rollback()
                conn.close()
        finally:
            with connect(db_dsn) as cleaner:
                truncate_all(cleaner)
            if not DB_STATE["held"]:
                DB_STATE["dirty"] = False


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not IN_CI or reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) were skipped; in CI a skip is a failure "
            "(a required service or data set is missing).",
            red=True,
        )
        session.exitstatus = 1
