"""Import batches: one row in ``import_batch`` per file or sheet loaded.

A loader calls :func:`start_batch` inside its transaction, loads rows that
reference the returned ``batch_id``, then :func:`finish_batch` with the counts;
the caller commits once, so a failed load leaves neither rows nor a batch.
:func:`find_batch_by_identity` lets a loader say "this file, read this way, is
already loaded" (:func:`find_batch_by_sha` matches the file's hash alone, for
loaders whose files are read only one way). :func:`lock_imports` serialises
loads of one kind, so two identical imports started together load once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gis.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg


def start_batch(
    conn: psycopg.Connection,
    kind: str,
    source: str,
    *,
    source_sha256: str | None = None,
    layer: str | None = None,
    params: Mapping[str, Any] | None = None,
    srid: int | None = None,
    identity: str | None = None,
) -> int:
    """Insert an ``import_batch`` row and return its id (no commit).

    Parameters
    ----------
    kind : str
        One of parcels, footprints, enterprises, land_rights, verification, sample.
    source : str
        File path or description of where the rows come from.
    source_sha256 : str, optional
        Hash of the source file, for :func:`find_batch_by_sha`.
    layer : str, optional
        Layer or sheet name.
    params : mapping, optional
        Options the load used (JSON-serialisable).
    srid : int, optional
        SRID the geometries were stored in.
    identity : str, optional
        Hash of the file and the options that change what is read
        (:func:`find_batch_by_identity`).
    """
    from psycopg.types.json import Jsonb

    from gis import __version__
    from gis.db.connection import translate_errors

    with translate_errors(f"recording the {kind} import batch for {source}"):
        row = conn.execute(
            "INSERT INTO import_batch (kind, source, source_sha256, layer, params, srid, "
            "mujun_version, identity) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING batch_id",
            (kind, str(source), source_sha256, layer, Jsonb(dict(params or {})), srid,
             __version__, identity),
        ).fetchone()
    assert row is not None
    return int(row[0])


def finish_batch(
    conn: psycopg.Connection,
    batch_id: int,
    *,
    n_read: int,
    n_loaded: int,
    n_rejected: int = 0,
    n_warnings: int = 0,
    report: Mapping[str, Any] | None = None,
) -> None:
    """Record a batch's counts and report and stamp ``finished_at`` (no commit)."""
    from psycopg.types.json import Jsonb

    from gis.db.connection import translate_errors

    with translate_errors(f"finishing import batch {batch_id}"):
        cur = conn.execute(
            "UPDATE import_batch SET n_read = %s, n_loaded = %s, n_rejected = %s, "
            "n_warnings = %s, report = %s, finished_at = now() WHERE batch_id = %s",
            (int(n_read), int(n_loaded), int(n_rejected), int(n_warnings),
             Jsonb(dict(report or {})), int(batch_id)),
        )
    if cur.rowcount != 1:
        raise DatabaseError(f"import batch {batch_id} does not exist")


def find_batch_by_sha(conn: psycopg.Connection, kind: str, sha256: str) -> int | None:
    """Id of the latest finished batch of ``kind`` loaded from a file with this hash."""
    row = conn.execute(
        "SELECT batch_id FROM import_batch WHERE kind = %s AND source_sha256 = %s "
        "AND finished_at IS NOT NULL ORDER BY batch_id DESC LIMIT 1",
        (kind, sha256),
    ).fetchone()
    return int(row[0]) if row else None


def find_batch_by_identity(conn: psycopg.Connection, kind: str, identity: str) -> int | None:
    """Id of the latest finished batch of ``kind`` with this import identity."""
    from gis.db.connection import translate_errors

    with translate_errors(f"looking for an earlier {kind} import"):
        row = conn.execute(
            "SELECT batch_id FROM import_batch WHERE kind = %s AND identity = %s "
            "AND finished_at IS NOT NULL ORDER BY batch_id DESC LIMIT 1",
            (kind, identity),
        ).fetchone()
    return int(row[0]) if row else None


def lock_imports(conn: psycopg.Connection, kind: str) -> None:
    """Wait for other loads of ``kind`` to finish; hold the lock until this transaction ends.

    A transaction-level advisory lock keyed on the kind: a second identical
    import waits, then sees the first one's batch and changes nothing.
    """
    from gis.db.connection import translate_errors

    with translate_errors(f"waiting for other {kind} imports"):
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                     (f"mujun.import:{kind}",))
