"""Field-check notes with photos, and the photos themselves (by their random key)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maps.review import auth
from maps.review.routes.candidates import not_found
from maps.review.routing import RouteTable
from maps.review.uploads import read_upload
from maps.review.web import HTTPError, client, run, settings

table = RouteTable()
#: Longest photo key accepted (keys are 32 characters).
MAX_KEY = 64


@table.post("/api/candidates/{candidate_id:int}/notes", permission="field_note", body="upload")
async def add_note(request: Request) -> Response:
    """A note with up to six photos; each photo is refused as soon as it passes the limit."""
    from maps.review.notes import MAX_PHOTOS
    from maps.review.notes import add_note as store_note
    from maps.review.photos import validate_photo

    cid = request.path_params["candidate_id"]
    max_bytes = settings(request).photo_max_bytes
    form = await read_upload(request, max_file_bytes=max_bytes, max_files=MAX_PHOTOS)
    text = form.get("note")
    photos = []
    for upload in form.files.get("photo", []):
        if not upload.filename:
            continue
        photos.append(await run_in_threadpool(validate_photo, upload.data,
                                              name=upload.filename[:100], max_bytes=max_bytes))
    address = client(request)

    def work(conn, user):
        exists = conn.execute("SELECT 1 FROM candidate WHERE candidate_id = %s",
                              (cid,)).fetchone()
        if not exists:
            raise not_found(cid)
        note = store_note(conn, cid, author=user.username, text=text, photos=photos)
        auth.audit(conn, user.username, "field_note", {"candidate_id": cid,
                                                       "note_id": note["note_id"],
                                                       "photos": len(photos)}, address)
        return note

    return JSONResponse(await run(request, work), status_code=201)


@table.get("/api/photos/{key}", permission="view")
async def photo(request: Request) -> Response:
    """A field-check photo the user may see (RLS), sandboxed."""
    from maps.review.notes import get_photo

    key = request.path_params["key"]
    if len(key) > MAX_KEY:
        raise HTTPError(404, "没有这张照片")

    def work(conn, user):
        found = get_photo(conn, key)
        if found is None:
            raise HTTPError(404, "没有这张照片")
        return found

    content_type, data = await run(request, work)
    return Response(data, media_type=content_type,
                    headers={"content-disposition": "inline",
                             "content-security-policy": "default-src 'none'; sandbox",
                             "cache-control": "private, no-store"})
