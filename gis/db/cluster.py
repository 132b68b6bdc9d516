"""The project's own PostgreSQL/PostGIS cluster.

When no external server is configured (``MUJUN_DSN`` unset), mujun runs a
private cluster from Debian's server binaries, never the system cluster:

* data directory ``<home>/pg`` (created with ``initdb``),
* a unix socket in ``<home>/run`` (or a short directory under ``/tmp`` when that
  path would exceed the 107-byte socket path limit),
* TCP on ``127.0.0.1`` only, on ``settings.db_port`` or a free port picked
  once and remembered in ``<home>/cluster.json``,
* SCRAM password authentication with a generated password kept in the libpq
  password file ``<home>/pgpass`` (mode 600, never committed; the DSN only
  names the file),
* when mujun runs as root (PostgreSQL refuses to), the server runs as the
  unprivileged system user ``settings.db_user``, which owns the data directory.

Every public method is idempotent: ``start`` on a running cluster does
nothing, ``stop`` on a stopped one does nothing, a stale ``postmaster.pid``
left by a crash or container restart is removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.db.dsn import redact_dsn
from gis.errors import ServerError

if TYPE_CHECKING:
    from gis.settings import Settings

log = logging.getLogger(__name__)

#: Where Debian installs versioned server binaries.
PG_LIB_ROOT = Path("/usr/lib/postgresql")
PG_SHARE_ROOT = Path("/usr/share/postgresql")

#: Longest unix socket path the kernel accepts (sun_path is 108 bytes with the NUL).
SOCKET_PATH_MAX = 107

_MISSING_HINT = (
    "install the Debian packages postgresql-15 postgresql-15-postgis-3 "
    "(apt-get install postgresql-15 postgresql-15-postgis-3), "
    "or set MUJUN_DSN to use an existing PostGIS server"
)

# Server settings for this workload, written to <data>/mujun.conf on every start.
# Sizes scale with the machine's memory but stay modest: the cluster shares the
# machine with the Python processes that feed it.
_TUNING_TEMPLATE = """\
# Written by mujun on every `mujun db start`; edits here are overwritten.
# Put lasting changes in postgresql.auto.conf (ALTER SYSTEM).
listen_addresses = '127.0.0.1'          # never listen on public interfaces
port = {port}
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0770
max_connections = 100                   # tests, CLI runs and dask workers at once

# Memory. shared_buffers ~1/8 of RAM (256MB..2GB) caches parcels and footprints;
# work_mem is per sort/hash node, and the occupancy joins run several at once,
# so it stays moderate; maintenance_work_mem speeds GiST index builds after bulk loads.
shared_buffers = {shared_buffers}MB
effective_cache_size = {effective_cache}MB
work_mem = 64MB
maintenance_work_mem = {maintenance}MB
dynamic_shared_memory_type = {dsm_type}    # mmap when /dev/shm is tiny (containers)

# Parallel query. The parcel x footprint joins are big enough to benefit from
# two workers, but with default costs the planner rarely picks a parallel plan
# for spatial joins: lower the per-tuple and setup costs and the table-size
# threshold so it does.
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2    # parallel index builds (btree)
parallel_tuple_cost = 0.01
parallel_setup_cost = 100
min_parallel_table_scan_size = 1MB
min_parallel_index_scan_size = 128kB
random_page_cost = 1.1                  # local SSD
jit = off                               # compile time outweighs gains on GEOS-bound queries

# Durability stays ON (fsync, full_page_writes, synchronous_commit): this is the
# system of record. Bulk loads get fast instead through wal_level = minimal
# (COPY into a table created or truncated in the same transaction skips WAL)
# and a large max_wal_size (fewer checkpoints during a load).
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = minimal
max_wal_senders = 0
max_wal_size = 4GB
checkpoint_completion_target = 0.9
wal_buffers = 16MB

# Logs go to the file given to pg_ctl (<home>/log/postgresql.log).
logging_collector = off
log_min_duration_statement = 5000       # log statements slower than 5 s
log_line_prefix = '%m [%p] %u@%d '
timezone = 'UTC'
"""


def find_pg_bindir(version: str | None = None) -> Path:
    """Return the newest Debian PostgreSQL ``bin`` directory that has a server.

    Parameters
    ----------
    version : str, optional
        Major version to require (e.g. ``"15"``), as recorded in a data
        directory's ``PG_VERSION``.

    Raises
    ------
    ServerError
        No server binaries (or not the required version), naming the packages to install.
    """
    candidates = []
    if PG_LIB_ROOT.is_dir():
        for child in PG_LIB_ROOT.iterdir():
            if child.name.replace(".", "").isdigit() and (child / "bin" / "initdb").exists() and (
                child / "bin" / "pg_ctl"
            ).exists():
                candidates.append(child)
    if version is not None:
        candidates = [c for c in candidates if c.name == version]
        if not candidates:
            raise ServerError(
                f"the local cluster was created by PostgreSQL {version}, whose server binaries "
                f"are not under {PG_LIB_ROOT}; install postgresql-{version} "
                f"postgresql-{version}-postgis-3, or remove the cluster's data directory"
            )
    if not candidates:
        raise ServerError(f"PostgreSQL server binaries not found under {PG_LIB_ROOT}; {_MISSING_HINT}")
    best = max(candidates, key=lambda p: tuple(int(x) for x in p.name.split(".")))
    return best / "bin"


def postgis_available(version: str) -> bool:
    """Whether the PostGIS extension is installed for PostgreSQL ``version``."""
    return (PG_SHARE_ROOT / version / "extension" / "postgis.control").exists()


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on ``host:port`` (TIME_WAIT sockets do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _memory_mb() -> int:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        return int(pages * size / 2**20)
    except (ValueError, OSError):  # pragma: no cover - exotic platforms
        return 4096


def _shm_mb() -> int:
    """Size of /dev/shm in MiB (parallel queries put their shared memory there)."""
    try:
        st = os.statvfs("/dev/shm")
        return int(st.f_blocks * st.f_frsize / 2**20)
    except OSError:
        return 0


def _pid_is_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline or b"postmaster" in cmdline


class LocalCluster:
    """The project-local PostgreSQL cluster described by ``settings``.

    Parameters
    ----------
    settings : Settings
        Uses ``home_path``, ``db_port``, ``db_name`` and ``db_user``.

    Examples
    --------
    Starting a server is not a doctest (``mujun db start`` does it; the
    ``tests/test_gis/test_db_cli.py`` tests run a throw-away cluster)::

        cluster = LocalCluster(load_settings())
        cluster.start()
        cluster.status()["running"]   # -> True
    """

    def __init__(self, settings: Settings):
        if settings.dsn:
            raise ServerError(
                "MUJUN_DSN is set, so mujun uses that server and runs no local cluster"
            )
        self.settings = settings
        self.home = settings.home_path.resolve()
        self.data_dir = self.home / "pg"
        self.log_dir = self.home / "log"
        self.log_file = self.log_dir / "postgresql.log"
        self.state_file = self.home / "cluster.json"
        self.passfile = self.home / "pgpass"
        self.user = settings.db_user
        self.dbname = settings.db_name

    # ----------------------------------------------------------------- state
    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ServerError(f"{self.state_file}: unreadable cluster state ({exc}); "
                              "fix or delete the file") from exc

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self.state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)

    @property
    def port(self) -> int | None:
        """The configured port, or the one remembered from the first start."""
        if self.settings.db_port:
            return int(self.settings.db_port)
        port = self._state().get("port")
        return int(port) if port else None

    @property
    def socket_dir(self) -> Path:
        """Directory of the unix socket, short enough for the 107-byte limit."""
        local = self.home / "run"
        # ".s.PGSQL.65535.lock" is the longest file the server puts there.
        if len(str(local / ".s.PGSQL.65535.lock").encode()) <= SOCKET_PATH_MAX:
            return local
        import hashlib

        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        return Path("/tmp") / f"mujun-{digest}"

    @property
    def initialized(self) -> bool:
        """Whether ``initdb`` has run in the data directory."""
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def version(self) -> str | None:
        """Major PostgreSQL version of the data directory (``None`` before initdb)."""
        try:
            return (self.data_dir / "PG_VERSION").read_text().strip()
        except OSError:
            return None

    def dsn_for(self, dbname: str | None = None) -> str:
        """libpq DSN of database ``dbname`` (default ``settings.db_name``); holds no password."""
        from psycopg.conninfo import make_conninfo

        port = self.port
        if port is None:
            raise ServerError(
                f"the local cluster in {self.data_dir} has not been set up; run `mujun db start`"
            )
        return make_conninfo(
            host="127.0.0.1",
            port=str(port),
            dbname=dbname or self.dbname,
            user=self.user,
            passfile=str(self.passfile),
            connect_timeout="10",
            application_name="mujun",
        )

    @property
    def dsn(self) -> str:
        """libpq DSN of the project database; the password stays in the pgpass file."""
        return self.dsn_for()

    # ------------------------------------------------------------ processes
    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, args: list[str], *, what: str, check: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = (["runuser", "-u", self.user, "--"] if self._as_root else []) + args
        log.debug("running %s", " ".join(cmd))
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        env.pop("PGDATA", None)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                                  cwd="/", check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerError(f"{what} failed: {exc}") from exc
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            tail = detail[-1] if detail else f"exit code {proc.returncode}"
            raise ServerError(f"{what} failed: {tail} (log: {self.log_file})")
        return proc

    def _ensure_user(self) -> None:
        """When root, make sure the unprivileged server user exists."""
        if not self._as_root:
            return
        try:
            pwd.getpwnam(self.user)
            return
        except KeyError:
            pass
        log.info("creating system user %s to run the local PostgreSQL server", self.user)
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        proc = subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             "--home-dir", "/nonexistent", self.user],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 and proc.returncode != 9:  # 9: user exists (a race)
            raise ServerError(
                f"cannot create system user {self.user!r} to run PostgreSQL: "
                f"{proc.stderr.strip()}; create it or set MUJUN_DB_USER to an existing "
                "unprivileged user"
            )

    def _own(self, path: Path, mode: int = 0o700) -> None:
        """Create ``path`` as a directory owned by the server user."""
        path.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        path.chmod(mode)

    def _chown_file(self, path: Path) -> None:
        if self._as_root:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _check_reachable(self) -> None:
        """The server user must be able to reach the home directory."""
        if not self._as_root:
            return
        proc = self._run(["test", "-x", str(self.home)], what="checking access", check=False)
        if proc.returncode != 0:
            raise ServerError(
                f"the server user {self.user!r} cannot enter {self.home}; make it and its "
                "parent directories traversable (chmod o+x) or set MUJUN_HOME elsewhere"
            )

    def _write_passfile(self, password: str) -> None:
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            # host:port:database:user:password; '*' for the port so a port change keeps working
            f.write(f"127.0.0.1:*:*:{self.user}:{password}\n")
            f.write(f"localhost:*:*:{self.user}:{password}\n")
        self.passfile.chmod(0o600)

    def _initdb(self, bindir: Path) -> None:
        version = bindir.parent.name
        if not postgis_available(version):
            raise ServerError(f"PostGIS is not installed for PostgreSQL {version}; {_MISSING_HINT}")
        self._ensure_user()
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o755)  # the server user must traverse it; secrets are mode 600 inside
        self._check_reachable()
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ServerError(
                f"{self.data_dir} exists but holds no PostgreSQL cluster (no PG_VERSION); "
                "move it away and run `mujun db start` again"
            )
        self._own(self.data_dir)
        password = secrets.token_urlsafe(24)
        pwfile = self.home / ".initdb-pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        self._chown_file(pwfile)
        try:
            log.info("initdb %s (PostgreSQL %s)", self.data_dir, version)
            self._run(
                [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", self.user,
                 "--pwfile", str(pwfile), "--auth-local=scram-sha-256",
                 "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                what=f"initdb {self.data_dir}", timeout=300,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_passfile(password)
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            f.write("\n# mujun: workload settings, rewritten on every start\n"
                    "include_if_exists = 'mujun.conf'\n")

    def _write_tuning(self, port: int) -> None:
        mem = _memory_mb()
        shared = int(min(max(mem // 8, 256), 2048))
        text = _TUNING_TEMPLATE.format(
            port=port,
            socket_dir=str(self.socket_dir),
            shared_buffers=shared,
            effective_cache=int(max(mem // 2, 512)),
            maintenance=int(min(max(mem // 16, 128), 1024)),
            dsm_type="posix" if _shm_mb() >= 1024 else "mmap",
        )
        path = self.data_dir / "mujun.conf"
        path.write_text(text)
        self._chown_file(path)
        path.chmod(0o600)

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first.strip())
        except (OSError, ValueError, IndexError):
            return None

    def is_running(self) -> bool:
        """Whether this cluster's postmaster is alive (cheap: no subprocess)."""
        pid = self._postmaster_pid()
        return pid is not None and _pid_is_postgres(pid)

    def _clear_stale(self) -> None:
        """Remove a postmaster.pid / socket lock left by a dead server."""
        pidfile = self.data_dir / "postmaster.pid"
        if pidfile.exists() and not self.is_running():
            log.warning("removing stale %s (no such server process)", pidfile)
            pidfile.unlink(missing_ok=True)
        sock_dir = self.socket_dir
        if sock_dir.is_dir():
            for lock in sock_dir.glob(".s.PGSQL.*.lock"):
                try:
                    pid = int(lock.read_text().splitlines()[0])
                except (OSError, ValueError, IndexError):
                    pid = -1
                if not _pid_is_postgres(pid):
                    lock.unlink(missing_ok=True)
                    Path(str(lock)[: -len(".lock")]).unlink(missing_ok=True)

    def _choose_port(self) -> int:
        state = self._state()
        if self.settings.db_port:
            port = int(self.settings.db_port)
            if port_in_use(port):
                raise ServerError(
                    f"127.0.0.1 的端口 {port} 已被占用；请把 MUJUN_DB_PORT 设为空闲端口"
                    "（或设为 0，由 mujun 选择）"
                )
            return port
        port = state.get("port")
        if port and not port_in_use(int(port)):
            return int(port)
        if port:
            log.warning("remembered port %s is taken by another program; picking a new one", port)
        return free_port()

    # ----------------------------------------------------------- operations
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop between processes (two `mujun` runs starting at once)."""
        import fcntl

        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "cluster.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self) -> dict[str, Any]:
        """Initialise (first time), start the server, create the database and enable PostGIS.

        Returns
        -------
        dict
            :meth:`status` after starting. A running cluster is left alone.
        """
        with self._locked():
            return self._start()

    def _start(self) -> dict[str, Any]:
        if self.is_running():
            log.info("local PostgreSQL already running (%s)", self.data_dir)
            self.ensure_database()
            return self.status()
        bindir = find_pg_bindir(self.version)
        port = self._choose_port()  # a taken port fails before any initdb work
        if not self.initialized:
            self._initdb(bindir)
        self._ensure_user()
        self._clear_stale()
        state = self._state()
        state.update(port=port, version=bindir.parent.name, user=self.user,
                     data_dir=str(self.data_dir), socket_dir=str(self.socket_dir))
        self._save_state(state)
        self._own(self.socket_dir, 0o755)
        self._own(self.log_dir, 0o755)
        self._write_tuning(port)
        log.info("starting local PostgreSQL on 127.0.0.1:%s", port)
        self._run(
            [str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
             "-w", "-t", "120", "start"],
            what=f"starting PostgreSQL on port {port}", timeout=180,
        )
        self.ensure_database()
        return self.status()

    def stop(self) -> bool:
        """Stop the server (fast shutdown). Returns whether it was running."""
        with self._locked():
            return self._stop()

    def _stop(self) -> bool:
        if not self.is_running():
            self._clear_stale()
            return False
        bindir = find_pg_bindir(self.version)
        self._run([str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w",
                   "-t", "120", "stop"], what="stopping PostgreSQL", timeout=180)
        return True

    def ensure_database(self, dbname: str | None = None) -> None:
        """Create database ``dbname`` (default ``settings.db_name``) with PostGIS if missing."""
        import psycopg
        from psycopg import sql

        name = dbname or self.dbname
        try:
            with psycopg.connect(self.dsn_for("postgres"), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if not exists:
                    log.info("creating database %s", name)
                    conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                                 .format(sql.Identifier(name)))
            with psycopg.connect(self.dsn_for(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            raise ServerError(
                f"cannot prepare database {name!r} on the local cluster: "
                f"{str(exc).strip().splitlines()[0]}"
            ) from exc

    def status(self) -> dict[str, Any]:
        """Facts about the cluster: running, port, data dir, versions, DSN (no password)."""
        running = self.is_running()
        info: dict[str, Any] = {
            "kind": "local",
            "running": running,
            "data_dir": str(self.data_dir),
            "socket_dir": str(self.socket_dir),
            "port": self.port,
            "server_user": self.user if self._as_root else pwd.getpwuid(os.geteuid()).pw_name,
            "log_file": str(self.log_file),
            "initialized": self.initialized,
            "pg_major": self.version,
        }
        if self.port is not None:
            info["dsn"] = redact_dsn(self.dsn)
        return info
