"""Field-check notes and photos (runs as ``mujun_app``: RLS checks scope and role)."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from gis.errors import DataError

if TYPE_CHECKING:
    import psycopg

    from maps.review.photos import Photo

MAX_NOTE = 5000
MAX_PHOTOS = 6


def add_note(conn: psycopg.Connection, candidate_id: int, *, author: str, text: str,
             photos: list[Photo]) -> dict:
    """Store a note with its (validated) photos; returns the note with photo keys.

    Raises
    ------
    DataError
        Empty or too long text, too many photos.
    """
    text = (text or "").strip()
    if not text:
        raise DataError("a field note needs text")
    if len(text) > MAX_NOTE:
        raise DataError(f"a field note holds at most {MAX_NOTE} characters")
    if len(photos) > MAX_PHOTOS:
        raise DataError(f"at most {MAX_PHOTOS} photos per note")
    note_id = conn.execute(
        "INSERT INTO field_note (candidate_id, author, note) VALUES (%s, %s, %s)"
        " RETURNING note_id", (candidate_id, author, text)).fetchone()[0]
    keys = []
    for photo in photos:
        key = secrets.token_urlsafe(24)
        conn.execute(
            "INSERT INTO field_photo (note_id, photo_key, content_type, data, size_bytes,"
            " width, height, sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (note_id, key, photo.content_type, photo.data, len(photo.data), photo.width,
             photo.height, hashlib.sha256(photo.data).hexdigest()))
        keys.append(key)
    return {"note_id": int(note_id), "photos": keys}


def get_photo(conn: psycopg.Connection, key: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of a photo the user may see, else ``None``."""
    row = conn.execute("SELECT content_type, data FROM field_photo WHERE photo_key = %s",
                       (key,)).fetchone()
    return (row[0], bytes(row[1])) if row else None
