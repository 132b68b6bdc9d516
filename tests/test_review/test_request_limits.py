"""Request handling of the review app under hostile input (issue 19, findings 13, 16, 18,
21, 22), against the real server (`mujun serve`, several worker processes) and database.

Bodies are streamed over a raw socket so a test can tell how much the server read before
it answered: a refused body must be refused while it streams in, not after.
"""

from __future__ import annotations

import re
import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.test_review.conftest import PASSWORD, SERVER_PIDS

pytestmark = pytest.mark.postgis
MiB = 2**20


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() \
                else []
            todo.extend(int(c) for c in children)
    return found


def tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, bytes."""
    total = 0
    for p in tree_pids(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
    return total


def stream(base: str, path: str, headers: dict[str, str], head: bytes, filler: bytes,
           total: int, *, chunked: bool, tail: bytes = b"") -> tuple[int, int, bytes]:
    """POST ``head`` + ``filler`` repeated up to ``total`` bytes + ``tail``; stop sending as
    soon as the server answers or stops reading. Returns (status, bytes sent, answer body)."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}",
             *(f"{k}: {v}" for k, v in headers.items())]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def frame(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data

    sent = 0
    sock.settimeout(3)
    try:
        for piece in [head] + [filler] * ((total - len(head)) // len(filler)) + [tail]:
            if select.select([sock], [], [], 0)[0]:
                break   # the server has answered
            sock.sendall(frame(piece))
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass   # the server stopped reading
    sock.settimeout(30)
    answer = b""
    deadline = time.monotonic() + 30

    def complete() -> bool:
        if b"\r\n\r\n" not in answer:
            return False
        head_part, body_part = answer.split(b"\r\n\r\n", 1)
        length = re.search(rb"(?i)content-length: *(\d+)", head_part)
        return length is None or len(body_part) >= int(length.group(1))

    while not complete() and time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not data:
            break
        answer += data
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1") else 0
    return status, sent, answer.split(b"\r\n\r\n", 1)[-1]


def still_up(base: str) -> bool:
    return httpx.get(base + "/login", timeout=10).status_code == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_forged_cookie_with_a_huge_json_body_is_refused_unread(server, chunked):
    """Finding 13: a forged session cookie and a 400 MiB JSON body: refused (401, or 413 on
    its declared length) before the body is read; the server does not grow."""
    pid = SERVER_PIDS[server]
    before = tree_rss(pid)
    total = 400 * MiB
    headers = {"Content-Type": "application/json", "Cookie": "mujun_session=forged-token",
               "X-CSRF-Token": "x"}
    if not chunked:
        headers["Content-Length"] = str(total)
    status, sent, _ = stream(server, "/api/decisions", headers, b'{"items": [',
                             b'{"candidate_id": 1, "version": 1},' * 2048, total,
                             chunked=chunked, tail=b"{}]}")
    assert status in (401, 413)
    assert sent < 32 * MiB, f"the server read {sent / MiB:.0f} MiB of a refused body"
    assert tree_rss(pid) - before < 64 * MiB
    assert still_up(server)


def test_chunked_photo_upload_is_refused_as_it_passes_the_limit(server, sessions, seeded):
    """Finding 16: a chunked upload of a 300 MiB "photo" is refused once the part passes
    the 8 MiB limit, not after the whole file was received (and written to disk)."""
    s = sessions["tech_east"]
    cid = seeded["东区"][0]
    boundary = "mujunboundary7e3f"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n现场照片\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; "
            f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff").encode(
                "utf-8", "surrogateescape")
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "Cookie": f"mujun_session={s.client.cookies.get('mujun_session')}",
               "X-CSRF-Token": s.csrf}
    status, sent, body = stream(server, f"/api/candidates/{cid}/notes", headers, head,
                                b"\0" * MiB, 300 * MiB, chunked=True,
                                tail=f"\r\n--{boundary}--\r\n".encode())
    assert status == 413, body[:300]
    assert "8.0 MiB" in body.decode("utf-8"), body[:300]
    assert sent < 24 * MiB, f"the server read {sent / MiB:.0f} MiB before refusing"
    assert still_up(server)


def test_login_error_shows_only_coded_messages(server):
    """Finding 18: ``/login?error=`` takes a message code; attacker text is never shown."""
    bait = "账号已冻结，请致电 400-000-0000 或访问 evil.example"
    page = httpx.get(server + "/login", params={"error": bait})
    assert page.status_code == 200
    assert "400-000-0000" not in page.text and 'id="login-error"' not in page.text
    coded = httpx.get(server + "/login", params={"error": "failed"})
    assert "用户名或密码错误" in coded.text and 'id="login-error"' in coded.text
    expired = httpx.get(server + "/login", params={"error": "expired"})
    assert "登录已过期" in expired.text


NUL_MESSAGE = "空字符"


def test_nul_bytes_are_a_clean_400(server, sessions, seeded):
    """Finding 21: a NUL in a query parameter, comment, note, photo key or login name is a
    400 with a Chinese message, never a 500."""
    off, tech = sessions["off_east"], sessions["tech_east"]
    cid = seeded["东区"][1]
    version = off.get(f"/api/candidates/{cid}").json()["version"]
    answers = {
        "query": off.get("/api/candidates", params={"town": "甲\x00镇"}),
        "query-export": off.get("/api/export.xlsx", params={"kind": "idle\x00"}),
        "comment": off.post(f"/api/candidates/{cid}/decision",
                            json={"status": "under_review", "version": version,
                                  "comment": "看过\x00了"}),
        "bulk-comment": off.post("/api/decisions", json={
            "items": [{"candidate_id": cid, "version": version}], "status": "under_review",
            "comment": "\x00"}),
        "reason": off.post(f"/api/candidates/{cid}/decision",
                           json={"status": "rejected", "version": version,
                                 "reason": "in_use\x00"}),
        "note": tech.post(f"/api/candidates/{cid}/notes", data={"note": "现场\x00查看"},
                          files={"photo": ("p.jpg", b"")}),
        "photo-key": off.get("/api/photos/abc%00def"),
    }
    client = httpx.Client(timeout=30)
    page = client.get(server + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answers["login-name"] = client.post(server + "/login", data={
        "username": "adm\x00in", "password": PASSWORD, "csrf": token})
    for where, resp in answers.items():
        assert resp.status_code == 400, (where, resp.status_code, resp.text[:200])
        assert NUL_MESSAGE in resp.text, (where, resp.text[:200])
    # nothing was decided
    assert off.get(f"/api/candidates/{cid}").json()["version"] == version
    assert still_up(server)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_a_400_never_a_500(server, sessions, depth):
    """Finding 22: deeply nested JSON: 401 without a (valid) session, 400 with one."""
    body = "[" * depth + "]" * depth
    forged = httpx.post(server + "/api/decisions", content=body, headers={
        "Content-Type": "application/json", "Cookie": "mujun_session=forged",
        "X-CSRF-Token": "x"})
    assert forged.status_code == 401, forged.text[:200]
    off = sessions["off_east"]
    nested = off.post("/api/decisions", content='{"items": ' + body + "}",
                      headers={"Content-Type": "application/json"})
    assert nested.status_code == 400, nested.text[:200]
    assert "嵌套" in nested.json()["error"]
    assert still_up(server)


def test_every_body_is_capped(server, sessions, seeded):
    """A JSON body over the ``request_max_kb`` limit (1 MiB) with a valid session: 413."""
    off = sessions["off_east"]
    big = off.post("/api/decisions", content=b'{"comment": "' + b"a" * (2 * MiB) + b'"}',
                   headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "上限" in big.json()["error"]


def test_serve_runs_several_worker_processes(server):
    """``mujun serve`` defaults to one worker per core (two on the test machines)."""
    import os

    cores = len(os.sched_getaffinity(0))
    workers = [p for p in tree_pids(SERVER_PIDS[server])
               if Path(f"/proc/{p}/cmdline").exists()
               and b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(workers) == cores


def test_failed_reads_return_their_connection(sessions):
    """A read continues the guard's transaction; failing ones (404, 400, 403) must hand the
    connection back (each worker holds at most 12), or the 13th request would wait."""
    viewer, off = sessions["viewer_east"], sessions["off_east"]
    for i in range(30):
        assert off.get(f"/api/candidates/{10**9 + i}", timeout=10).status_code == 404
        assert off.get("/api/candidates", params={"kind": "nonsense"},
                       timeout=10).status_code == 400
        assert viewer.get("/api/export.xlsx", timeout=10).status_code == 403
    assert off.get("/api/me", timeout=10).status_code == 200
