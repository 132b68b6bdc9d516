"""Streaming multipart/form-data reader with a limit per part (for field-check photos).

Starlette's form parser spools file parts to a temporary file and leaves size checks to
the caller, so a 300 MiB photo was written to disk before it was refused. Here every part
is kept in memory and refused with 413 as soon as it passes its limit, while the body
streams in: at most ``max_files`` files of ``max_file_bytes`` each and ``max_fields`` text
fields of ``max_field_bytes`` each are ever held.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from maps.review.web import NUL_CHAR, HTTPError


@dataclass
class Upload:
    """A file part: its (client-given) file name and bytes."""

    filename: str
    data: bytes


@dataclass
class Form:
    """Text fields (name → list of values) and file parts (name → list of uploads)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The first value of text field ``name``."""
        return (self.fields.get(name) or [default])[0]


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.filename: str | None = None
        self.chunks: list[bytes] = []
        self.size = 0


async def read_upload(request: Request, *, max_file_bytes: int, max_files: int,
                      max_fields: int = 10, max_field_bytes: int = 64 * 1024) -> Form:
    """Parse a multipart body part by part, refusing any part over its limit at once.

    Raises
    ------
    HTTPError
        415 not multipart; 413 a file over ``max_file_bytes`` or a field over
        ``max_field_bytes``; 400 too many parts, a malformed body or a NUL in a field.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype == b"application/x-www-form-urlencoded":   # a note without photos
        plain = Form()
        async with request.form(max_fields=max_fields) as fields:
            for name, value in fields.multi_items():
                plain.fields.setdefault(name, []).append(str(value))
        return plain
    if ctype != b"multipart/form-data" or b"boundary" not in options:
        raise HTTPError(415, "请以 multipart/form-data 格式上传")
    form = Form()
    state: dict = {"part": None, "field": b"", "value": b""}
    errors: list[HTTPError] = []

    def fail(error: HTTPError) -> None:
        errors.append(error)
        raise error

    def on_part_begin() -> None:
        state["part"] = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["part"].headers[state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        part: _Part = state["part"]
        _disp, opts = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts:
            part.filename = opts[b"filename"].decode("utf-8", "replace").replace("\x00", "")
            if sum(len(v) for v in form.files.values()) >= max_files:
                fail(HTTPError(400, f"每条记录最多 {max_files} 张照片"))
        elif sum(len(v) for v in form.fields.values()) >= max_fields:
            fail(HTTPError(400, f"表单字段过多（最多 {max_fields} 个）"))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part: _Part = state["part"]
        part.size += end - start
        limit = max_file_bytes if part.filename is not None else max_field_bytes
        if part.size > limit:
            what = f"照片 {part.filename[:100]}" if part.filename is not None else "表单字段"
            fail(HTTPError(413, f"{what}超过上限 {limit / 2**20:.1f} MiB"))
        part.chunks.append(data[start:end])

    def on_part_end() -> None:
        part: _Part = state["part"]
        data = b"".join(part.chunks)
        if part.filename is not None:
            form.files.setdefault(part.name, []).append(Upload(part.filename, data))
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            fail(HTTPError(400, "表单字段不是 UTF-8 文本"))
        if "\x00" in text:
            fail(HTTPError(400, NUL_CHAR))
        form.fields.setdefault(part.name, []).append(text)

    parser = MultipartParser(options[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data,
        "on_part_end": on_part_end, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except HTTPError:
        raise
    except Exception as exc:   # the parser's own errors: a malformed body
        if errors:
            raise errors[0] from None
        raise HTTPError(400, "上传内容格式错误（multipart）") from exc
    return form
