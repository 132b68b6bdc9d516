"""Test-wide rules.

* ``shared_data`` tests read ``../shared/data``. They are skipped only when that
  folder is absent *and* ``CI`` is unset; in CI a missing folder is a failure.
* In CI (``CI`` set) any skipped test fails the session: a skipped PostGIS or
  browser test would otherwise hide a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data`` (real third-party data; never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"CI is set but the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"{SHARED_DATA} not present (a user's clone has no ../shared)")
    return SHARED_DATA


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


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
