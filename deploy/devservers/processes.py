"""Process plumbing shared by the throw-away servers: ports, /proc, signals, clean-up.

Every server started here is stopped by ``stop()``, by ``__exit__``, by an ``atexit`` hook
(only in the process that started it, so forked children never tear down their parent's
servers) and, when started from the main thread, by ``PR_SET_PDEATHSIG=SIGKILL`` if the Python
process dies without running ``atexit`` (SIGKILL, segfault). Folders left behind by such hard
deaths are swept the next time a server is started (orphaned postgres/tansu processes whose
cwd is inside such a folder are SIGKILLed, and the postmaster's SysV shared memory segment is
removed). Set ``SCRM_TEST_KEEP_TMP=1`` to keep the folders (logs, PGDATA).

Linux only (/proc, SIGSTOP/SIGCONT, prctl).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, TypeVar
from collections.abc import Callable

ENV_KEEP_TMP = "SCRM_TEST_KEEP_TMP"
LOOPBACK = "127.0.0.1"
# Every server's folder starts with one of these, which is how a later start finds the
# folders of a process that died without cleaning up.
SERVER_DIR_PREFIXES = ("scrm-test-pg-", "scrm-test-kafka-")
_OWNER_FILE = "owner.pid"

T = TypeVar("T")


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.05, message: str = "") -> T:
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


def free_port_block(size: int = 4) -> int:
    """The first of `size` consecutive free ports below the kernel's ephemeral range, so that no
    outgoing connection (to PostgreSQL, to the broker) can take one between this check and the bind."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    span = low - 20000
    # Processes started together (pytest-xdist's workers, a supervisor's children) have pids a few
    # apart: a large prime multiplier puts their searches hundreds of ports apart or more, so one walking past
    # blocks still in TIME_WAIT does not step onto a block another has chosen but not bound yet.
    start = 20000 + (os.getpid() * 7919) % span
    for offset in range(0, span, 10):
        base = 20000 + (start - 20000 + offset) % span
        if base + size < low and all(_bindable(base + i) for i in range(size)):
            return base
    raise RuntimeError("no free port block")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def keep_tmp() -> bool:
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


def alive(pid: int) -> bool:
    st = _proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def descendants(pid: int) -> list[int]:
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


def cpu_ticks(pid: int) -> int:
    """The CPU time a process and its descendants have used (those that ended too: a PostgreSQL
    backend's when its connection closed): how far their start-up has got."""
    return sum(cpu_ticks_each(pid).values())


def cpu_ticks_each(pid: int) -> dict[str, int]:
    """`cpu_ticks` per kind of process in the tree, named by their command line's last words (`intake
    web`, `workflow worker --slice 1/2`, `postgres: ...`); processes of one name are summed."""
    each: dict[str, int] = {}
    for member in (pid, *descendants(pid)):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
            words = Path(f"/proc/{member}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # gone meanwhile
        words = [w for w in words if w]
        name = " ".join(words[words.index("services") + 1 :] if "services" in words else words[:3])[:60]
        each[name] = each.get(name, 0) + sum(map(int, fields[11:15]))  # utime, stime, ended children's
    return each


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


def sigstop_and_wait(pids: list[int], timeout: float = 5.0) -> None:
    """SIGSTOP ``pids`` and return only once the kernel reports all their threads stopped
    (signal delivery is asynchronous, especially for busy multi-threaded processes)."""
    for pid in pids:
        send_signal(pid, signal.SIGSTOP)
    wait_for(
        lambda: all(_fully_stopped(p) for p in pids),
        timeout,
        interval=0.002,
        message=f"processes {pids} did not stop within {timeout}s",
    )


def send_signal(pid: int, sig: int) -> None:
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


def preexec_for_child() -> Callable[[], None] | None:
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
_live_servers: dict[int, Server] = {}
_atexit_installed = False


def _register(server: Server) -> None:
    global _atexit_installed
    with _registry_lock:
        _live_servers[id(server)] = server
        if not _atexit_installed:
            atexit.register(_stop_all)
            _atexit_installed = True


def _unregister(server: Server) -> None:
    with _registry_lock:
        _live_servers.pop(id(server), None)


def _stop_all() -> None:
    with _registry_lock:
        servers = list(_live_servers.values())
    for server in servers:
        try:
            server.stop()
        except Exception as exc:  # pragma: no cover - best effort at exit
            print(f"deploy.devservers: failed to stop {server!r}: {exc}", file=sys.stderr)


def server_root() -> Path:
    """Where the servers' folders go: the temp folder, or /tmp when the temp folder is private.
    PostgreSQL started by root runs as another user (it refuses to run as root), who must be
    able to reach its folder: a TMPDIR under /root would stop it."""
    tmp = Path(tempfile.gettempdir())
    return tmp if reachable_by_anyone(tmp) else Path("/tmp")


def reachable_by_anyone(path: Path) -> bool:
    """Whether every folder on the way to `path` (and `path` itself) may be entered by any user."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def make_server_dir(prefix: str) -> Path:
    _sweep_stale()
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=server_root()))
    (path / _OWNER_FILE).write_text(str(os.getpid()))
    return path


def _sweep_stale() -> None:
    """Clean up after Python processes that died without running atexit (SIGKILL, OOM, ...).

    For each of our temp dirs whose owner pid is dead: SIGKILL any postgres/tansu process
    still running in it (cwd inside the dir; postgres backends chdir to PGDATA, so this also
    finds backends left SIGSTOPped by a crash during ``pause()``), then delete the dir.
    """
    try:
        entries = [d for d in server_root().iterdir() if d.name.startswith(SERVER_DIR_PREFIXES)]
    except OSError:
        return
    stale = []
    for d in entries:
        try:
            owner = int((d / _OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if not alive(owner):
            stale.append(d)
    if not stale:
        return
    victims = _our_server_pids(stale)
    for pid in victims:
        send_signal(pid, signal.SIGKILL)
        send_signal(pid, signal.SIGCONT)
    for pid in victims:
        try:
            wait_for(lambda: not alive(pid), 5, interval=0.01)
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


def tail(path: Path | None, n: int = 4000) -> str:
    if path is None:
        return ""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-n:].decode(errors="replace")


class Server:
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
        tree = descendants(proc.pid) if proc.poll() is None else []
        # un-pause first, otherwise the signal stays pending forever
        for pid in tree:
            send_signal(pid, signal.SIGCONT)
        if proc.poll() is None:
            send_signal(proc.pid, signal.SIGCONT)
            send_signal(proc.pid, term_sig)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                send_signal(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for pid in tree:  # leftovers (normally already gone)
            if alive(pid):
                send_signal(pid, signal.SIGKILL)
        self._paused = False

    def _cleanup_tmpdir(self) -> None:
        if self._tmpdir is not None and not keep_tmp():
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None

    def _owned_here(self) -> bool:
        return self._owner_pid == os.getpid()
