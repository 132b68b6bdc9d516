"""Runs: every derived row (occupancy, scores, candidates, extracted
footprints) records the run that made it, with its parameters, the code
version and the import batches it read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gis.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg

RUN_STATUSES = ("running", "done", "failed")


def start_run(
    conn: psycopg.Connection,
    kind: str,
    params: Mapping[str, Any] | None,
    input_batches: Iterable[int] = (),
) -> int:
    """Insert a ``run`` row (status ``running``) and return its id (no commit).

    Parameters
    ----------
    kind : str
        What the run computes, e.g. ``"occupancy"`` or ``"footprints"``.
    params : mapping
        Parameters that determine the result (JSON-serialisable).
    input_batches : iterable of int
        ``import_batch`` ids the run read.
    """
    from psycopg.types.json import Jsonb

    from gis import __version__
    from gis.db.connection import translate_errors

    with translate_errors(f"recording a {kind} run"):
        row = conn.execute(
            "INSERT INTO run (kind, params, input_batches, code_version) "
            "VALUES (%s, %s, %s, %s) RETURNING run_id",
            (kind, Jsonb(dict(params or {})), [int(b) for b in input_batches], __version__),
        ).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(
    conn: psycopg.Connection,
    run_id: int,
    status: str = "done",
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Mark a run ``done`` or ``failed`` with a summary (no commit)."""
    from psycopg.types.json import Jsonb

    from gis.db.connection import translate_errors

    if status not in RUN_STATUSES[1:]:
        raise ValueError(f"status must be 'done' or 'failed', not {status!r}")
    with translate_errors(f"finishing run {run_id}"):
        cur = conn.execute(
            "UPDATE run SET status = %s, summary = %s, finished_at = now() WHERE run_id = %s",
            (status, Jsonb(dict(summary or {})), int(run_id)),
        )
    if cur.rowcount != 1:
        raise DatabaseError(f"run {run_id} does not exist")
