"""Review app under concurrent reviewers: p50/p95 of tile, list, detail and decision requests,
and requests per second with one and with two worker processes.

``mujun serve`` (the restricted database role, row-level security on) runs on 127.0.0.1 against a database holding the sample city's parcels and
footprints and synthetic candidates on 5 % of its parcels (60 % of the small sample's) (the land-status rules need
a full occupancy and scoring chain; the app's cost does not depend on how candidates
were found). A bounded asyncio/httpx load generator then plays ``USERS`` officials at
once, each logged in with its own session, each repeating: a vector tile (parcels,
footprints or candidates at zoom 16 around one of its candidates), a filtered list
page, a candidate detail, and a decision on that candidate with the version it read
(every user owns its own candidates, so a 409 would be a bug), with a think time of
``THINK_S`` ± 50 % between requests, as a person clicking.

The load runs twice in the same run, against ``mujun serve --workers 1`` and
``--workers 2``, with a short think time (:data:`THINK_S`) so that the users ask for more
than one process can answer; the ratio of the two throughputs is what the second worker
buys on this machine.

Baselines measured in the same run:

* the same requests from **one** user (no concurrency, one worker): ratio = p95 at
  ``USERS`` users / p95 alone, per request kind;
* a static file (``/static/app.css``) requested inside the same load: what the server
  and network stack cost without any database work.

Target (issue 20): at 50 users, ≥ 300 requests/s with p95 ≤ 100 ms for every kind and zero
errors (two workers on two cores).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

USERS = 50
#: Think time between a user's requests (± 50 %): short, to load the server.
THINK_S = 0.1
#: Worker processes compared in one run.
WORKERS = (1, 2)
DURATION_S = {"small": 20.0, "city": 60.0, "province": 60.0}
#: Share of the parcels that get a candidate (the small sample needs more to go round).
CANDIDATE_SHARE = {"small": 0.6, "city": 0.05, "province": 0.01}
TARGET_P95_MS = 100.0
TARGET_RPS = 300.0
PASSWORD = "bench-review-password"
KINDS = ("idle_not_started", "idle_stalled", "unfinished", "inefficient", "built_unused",
         "approved_unsupplied")
REPO = Path(__file__).resolve().parent.parent


def _database(settings, size: str) -> tuple[str, int]:
    """DSN of ``mujun_bench_review_<size>`` (made and loaded once) and its candidate count."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from benchmarks.bench_occupancy import SEED, _read, _sample
    from gis.db.connection import connect
    from gis.db.copy import copy_frame, set_working_srid
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.db.roles import mark_leakproof

    server = database_dsn(settings)
    name = f"mujun_bench_review_{size}"
    with connect(server, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = make_conninfo(server, dbname=name)
    with connect(dsn) as conn:
        migrate(conn)
        mark_leakproof(conn)   # as `mujun db start` does on the local cluster (see gis.db.roles)
        conn.commit()
        n_c = conn.execute("SELECT count(*) FROM candidate").fetchone()[0]
        if n_c == 0:
            folder = settings.home_path / "bench" / f"sample-{size}-{SEED}"
            parcels, buildings = _read(*_sample(size, folder))
            print(f"loading {len(parcels):,} parcels and {len(buildings):,} footprints",
                  flush=True)
            srid = parcels.crs.to_epsg()
            set_working_srid(conn, srid)
            copy_frame(conn, "parcel", parcels.rename_geometry("geom"), srid=srid)
            copy_frame(conn, "footprint", buildings.rename_geometry("geom"), srid=srid)
            conn.execute(
                "INSERT INTO survey (survey_date, coverage, source)"
                " SELECT '2024-05-01', ST_Multi(ST_Envelope(ST_Collect(geom))), 'bench'"
                " FROM parcel")
            conn.execute("UPDATE footprint SET survey_id = (SELECT max(survey_id) FROM survey)")
            conn.execute(
                "INSERT INTO candidate (parcel_code, kind, town, district, area_m2,"
                " reclaimable_m2, certainty, priority, evidence, rules)"
                " SELECT parcel_code, (%s::text[])[1 + (parcel_id %% 6)], town, district,"
                " area_m2, area_m2 * 0.6, 0.7, (parcel_id * 7919 %% 1000) / 10.0,"
                " jsonb_build_object('coverage', 0.1, 'bench', true), '[\"bench\"]'::jsonb"
                " FROM parcel WHERE random() < %s",
                (list(KINDS), CANDIDATE_SHARE[size]))
            conn.commit()
            conn.autocommit = True
            for table in ("parcel", "footprint", "candidate"):
                conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
            conn.autocommit = False
            n_c = conn.execute("SELECT count(*) FROM candidate").fetchone()[0]
    return dsn, int(n_c)


def _users(dsn: str, n: int) -> None:
    """``n`` officials (all areas) with the benchmark password; sessions cleared."""
    from gis.db.connection import connect
    from maps.review.users import add_user, grant

    with connect(dsn) as conn:
        have = {r[0] for r in conn.execute("SELECT username FROM app_user")}
        for i in range(n + 1):
            name = f"bench{i:02d}"
            if name not in have:
                add_user(conn, name, PASSWORD, role="official", actor="bench")
                grant(conn, name, everywhere=True, actor="bench")
        conn.execute("DELETE FROM app_session")
        conn.execute("DELETE FROM login_attempt")
        conn.commit()


def _pools(dsn: str, n: int) -> list[list[tuple[int, float, float]]]:
    """Per user: its own candidates (id, lon, lat of the parcel centre)."""
    from gis.db.connection import connect

    with connect(dsn) as conn:
        rows = conn.execute(
            "SELECT c.candidate_id, ST_X(pt), ST_Y(pt) FROM candidate c"
            " JOIN parcel p ON p.parcel_code = c.parcel_code,"
            " LATERAL ST_Transform(ST_PointOnSurface(p.geom), 4326) pt"
            " WHERE c.status IN ('new', 'under_review', 'field_check')"
            " ORDER BY c.candidate_id").fetchall()
    return [rows[i::n] for i in range(n)]


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


NEXT = {"new": "under_review", "under_review": "field_check", "field_check": "under_review"}


async def _login(client, base: str, username: str) -> str:
    page = await client.get(base + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = await client.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                    "csrf": token})
    if resp.status_code != 303:
        raise RuntimeError(f"login of {username} failed: {resp.status_code}")
    index = await client.get(base + "/")
    return re.search(r'data-csrf="([^"]+)"', index.text).group(1)


async def _reviewer(client, base: str, csrf: str, pool, stop_at: float, think: float,
                    samples: dict[str, list[float]], errors: list[str], seed: int) -> None:
    rnd = random.Random(seed)

    async def timed(kind: str, coro) -> Any:
        start = time.perf_counter()
        resp = await coro
        samples[kind].append((time.perf_counter() - start) * 1000)
        if resp.status_code >= 400:
            errors.append(f"{kind} {resp.status_code} {resp.text[:120]}")
        return resp

    async def pause():
        if think:
            await asyncio.sleep(rnd.uniform(0.5, 1.5) * think)

    await asyncio.sleep(rnd.uniform(0, think))  # users do not all start on the same tick
    while time.perf_counter() < stop_at:
        cid, lon, lat = rnd.choice(pool)
        layer = rnd.choice(("parcels", "footprints", "candidates"))
        x, y = _tile_xy(lon, lat, 16)
        await timed("tile", client.get(f"{base}/tiles/{layer}/16/{x}/{y}.mvt"))
        await pause()
        params = {"kind": rnd.choice(KINDS), "sort": "priority", "limit": 50}
        if rnd.random() < 0.5:
            params["status"] = "new"
        await timed("list", client.get(base + "/api/candidates", params=params))
        await pause()
        resp = await timed("detail", client.get(f"{base}/api/candidates/{cid}"))
        await pause()
        if resp.status_code == 200:
            d = resp.json()
            status = NEXT.get(d["status"])
            if status:
                await timed("decision", client.post(
                    f"{base}/api/candidates/{cid}/decision",
                    json={"status": status, "version": d["version"], "comment": "bench"},
                    headers={"X-CSRF-Token": csrf}))
                await pause()
        await timed("static", client.get(base + "/static/app.css"))
        await pause()


def _load(base: str, users: int, pools, seconds: float, think: float) -> dict[str, Any]:
    """Log ``users`` in (not measured), then let them work for ``seconds``."""
    import httpx

    samples: dict[str, list[float]] = {k: [] for k in ("tile", "list", "detail", "decision",
                                                       "static")}
    errors: list[str] = []
    wall = 0.0

    async def run():
        nonlocal wall
        # drop idle connections before uvicorn does (its keep-alive is 5 s): logging 50 users
        # in one after another leaves the first ones idle, and reusing a connection the
        # server is closing fails with "Server disconnected"
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2,
                              keepalive_expiry=3.0)
        clients = [httpx.AsyncClient(timeout=60, follow_redirects=False, limits=limits)
                   for _ in range(users)]
        try:
            tokens = []
            for i, client in enumerate(clients):  # one after another: a login is deliberately slow
                tokens.append(await _login(client, base, f"bench{i:02d}"))
            start = time.perf_counter()
            await asyncio.gather(*(
                _reviewer(clients[i], base, tokens[i], pools[i], start + seconds, think,
                          samples, errors, i) for i in range(users)))
            wall = time.perf_counter() - start
        finally:
            for client in clients:
                await client.aclose()

    asyncio.run(run())
    out: dict[str, Any] = {"users": users, "seconds": round(wall, 1), "errors": len(errors),
                           "error_examples": errors[:5],
                           "requests": sum(len(v) for v in samples.values())}
    out["requests_per_s"] = round(out["requests"] / wall, 1)
    for kind, values in samples.items():
        if len(values) >= 2:
            q = statistics.quantiles(values, n=100, method="inclusive")
            out[kind] = {"n": len(values), "p50_ms": round(statistics.median(values), 1),
                         "p95_ms": round(q[94], 1), "max_ms": round(max(values), 1)}
    return out


def _serve(dsn: str, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MUJUN_DSN=dsn, MUJUN_PROGRESS="false",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"mujun-bench-review-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "gis.cli.main", "-q", "serve", "--port",
                             str(port), "--workers", str(workers)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mujun serve exited ({proc.returncode}); see {log.name}")
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("mujun serve did not start within 60 s")


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _postmaster_pid(settings) -> int | None:
    """The local cluster's postmaster (``None`` with an external server)."""
    pid_file = settings.home_path / "pg" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def _print(label: str, res: dict[str, Any]) -> None:
    print(f"  {label}: {res['requests']:,} requests in {res['seconds']} s "
          f"({res['requests_per_s']}/s), errors {res['errors']}", flush=True)
    for kind in ("tile", "list", "detail", "decision", "static"):
        if kind in res:
            r = res[kind]
            print(f"    {kind:<9} n={r['n']:>6,}  p50 {r['p50_ms']:7.1f} ms  "
                  f"p95 {r['p95_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms", flush=True)
    for example in res["error_examples"]:
        print(f"    error: {example}", flush=True)


def main(size: str = "city", users: int = USERS, think: float = THINK_S,
         seconds: float | None = None) -> dict:
    """Run the single-user baseline and the concurrent load; print p50/p95 and ratios."""
    from gis.settings import load_settings

    settings = load_settings()
    dsn, n_candidates = _database(settings, size)
    _users(dsn, users)
    pools = _pools(dsn, users)
    if min(len(p) for p in pools) == 0:
        raise RuntimeError(f"{n_candidates} candidates are too few for {users} users")
    seconds = seconds or DURATION_S[size]
    print(f"{size}: {n_candidates:,} candidates; {users} reviewers, think time {think} s, "
          f"{seconds:.0f} s", flush=True)
    alone: dict[str, Any] = {}
    loaded: dict[int, dict[str, Any]] = {}
    pg = _postmaster_pid(settings)
    for workers in WORKERS:
        proc, base = _serve(dsn, workers)
        try:
            if not alone:
                alone = _load(base, 1, pools, min(seconds, 20.0), think=0.0)
                _print("baseline: one user, no think time, one worker", alone)
            cpu0 = {"app": _tree_cpu_s(proc.pid), "db": _tree_cpu_s(pg) if pg else 0.0,
                    "load": time.process_time()}
            loaded[workers] = _load(base, users, pools, seconds, think=think)
            res = loaded[workers]
            cpu = {"app": _tree_cpu_s(proc.pid) - cpu0["app"],
                   "db": (_tree_cpu_s(pg) if pg else 0.0) - cpu0["db"],
                   "load": time.process_time() - cpu0["load"]}
            # CPU per request of the app and the database (the load generator apart): what
            # two cores of their own could serve, whatever else shares this machine
            per_req = (cpu["app"] + cpu["db"]) * 1000 / max(res["requests"], 1)
            res["cpu_ms_per_request"] = {k: round(v * 1000 / max(res["requests"], 1), 2)
                                         for k, v in cpu.items()}
            res["projected_rps_2_cores"] = round(2000 / max(per_req, 1e-6), 0)
            _print(f"{users} concurrent reviewers, --workers {workers}", res)
            print(f"    CPU per request: app {res['cpu_ms_per_request']['app']} ms, database "
                  f"{res['cpu_ms_per_request']['db']} ms, load generator "
                  f"{res['cpu_ms_per_request']['load']} ms; two cores of their own would "
                  f"serve about {res['projected_rps_2_cores']:.0f} requests/s", flush=True)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    figures: dict[str, Any] = {"size": size, "candidates": n_candidates, "alone": alone,
                               "loaded": loaded, "ratios": {}}
    most = loaded[WORKERS[-1]]
    rps = {w: loaded[w]["requests_per_s"] for w in WORKERS}
    figures["ratios"]["requests_per_s"] = round(rps[WORKERS[-1]] / max(rps[WORKERS[0]], 1e-6), 2)
    print(f"  requests/s: {rps[WORKERS[0]]} with {WORKERS[0]} worker, {rps[WORKERS[-1]]} with "
          f"{WORKERS[-1]} = {figures['ratios']['requests_per_s']:.2f} x", flush=True)
    ok = most["errors"] == 0 and rps[WORKERS[-1]] >= TARGET_RPS
    for kind in ("tile", "list", "detail", "decision"):
        if kind in most and kind in alone:
            ratio = most[kind]["p95_ms"] / max(alone[kind]["p95_ms"], 1e-6)
            vs_static = most[kind]["p95_ms"] / max(most["static"]["p95_ms"], 1e-6)
            figures["ratios"][kind] = {"p95_vs_alone": round(ratio, 2),
                                       "p95_vs_static": round(vs_static, 2)}
            meets = most[kind]["p95_ms"] <= TARGET_P95_MS
            ok = ok and meets
            print(f"  {kind:<9} p95 {most[kind]['p95_ms']:.1f} ms with {WORKERS[-1]} workers = "
                  f"{ratio:.2f} x one user alone, {vs_static:.2f} x the static file under load;"
                  f" target <= {TARGET_P95_MS:.0f} ms: {'met' if meets else 'MISSED'}",
                  flush=True)
    figures["target_met"] = ok
    print(f"  target (>= {TARGET_RPS:.0f} requests/s, p95 <= {TARGET_P95_MS:.0f} ms for all "
          f"kinds, zero errors): {'met' if ok else 'MISSED'}", flush=True)
    return figures


if __name__ == "__main__":  # python -m benchmarks.bench_review [size] [users]
    main(sys.argv[1] if len(sys.argv) > 1 else "small",
         int(sys.argv[2]) if len(sys.argv) > 2 else USERS)
