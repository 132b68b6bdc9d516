"""Field-check photos: type and size checks, decoding and re-encoding (pure).

A photo is accepted only when its first bytes say JPEG, PNG or WebP, it decodes as
that format, and it is no larger than the configured limit in bytes and pixels. Its EXIF
orientation (a phone held upright writes "rotate 90°" instead of turning the pixels) is
applied to the pixels first; then it is stored re-encoded, which drops EXIF (with its
GPS position and camera details) and anything smuggled after the image data, and
served only through a random key after a permission check, never from a file path.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from gis.errors import DataError

#: Magic bytes → (Pillow format, MIME type).
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "PNG", "image/png"),
)
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000


class PhotoRejected(DataError):
    """An uploaded file is not an acceptable photo (the message says why)."""


@dataclass(frozen=True)
class Photo:
    """A validated, re-encoded photo."""

    content_type: str
    data: bytes
    width: int
    height: int


def sniff(data: bytes) -> tuple[str, str] | None:
    """(Pillow format, MIME type) from the file's first bytes, or ``None``.

    Examples
    --------
    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n....")
    ('PNG', 'image/png')
    >>> sniff(b"<svg xmlns=...") is None
    True
    """
    for magic, fmt, mime in _MAGIC:
        if data.startswith(magic):
            return fmt, mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP", "image/webp"
    return None


def validate_photo(data: bytes, *, name: str, max_bytes: int) -> Photo:
    """Check and re-encode an uploaded photo.

    Raises
    ------
    PhotoRejected
        Too large, not JPEG/PNG/WebP by its content, undecodable, or too many pixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise PhotoRejected(f"{name}: {len(data) / 2**20:.1f} MiB is larger than the limit of "
                            f"{max_bytes / 2**20:.1f} MiB")
    if not data:
        raise PhotoRejected(f"{name}: the file is empty")
    found = sniff(data)
    if found is None:
        raise PhotoRejected(f"{name}: not a JPEG, PNG or WebP image (judged by its content, "
                            "not its name)")
    fmt, mime = found
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise PhotoRejected(f"{name}: {width}x{height} pixels is too large")
            probe.verify()
        with Image.open(io.BytesIO(data), formats=[fmt]) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)   # upright pixels, orientation dropped
            width, height = image.size
            out = io.BytesIO()
            if fmt == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=88)
            elif fmt == "PNG":
                image.save(out, "PNG", optimize=False)
            else:
                image.save(out, "WEBP", quality=88)
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError) as exc:
        raise PhotoRejected(f"{name}: cannot be read as {fmt}: {exc}") from exc
    return Photo(mime, out.getvalue(), width, height)
