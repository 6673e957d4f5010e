"""Waking a store's readers when it commits, instead of leaving them to a fixed poll.

Whoever records events in a store rings its doorbell once the commit is done; a worker reading
that store (a follower of its outbox, a relay, notify's sender reading its own log) waits on the
doorbell and wakes as soon as anything was recorded. A ring is a hint, never the data: the woken
reader reads the log as always, and a ring that never comes (a writer killed between its commit
and the ring, a listener's queue full, a broken connection) only delays the read until the
reader's fallback poll, the interval it slept before there were doorbells.

- SQLite (one machine): each listener binds a Unix datagram socket in `<store file>.bells/`;
  after a commit the writer sends an empty datagram to every socket there (shared/sqlite.py),
  removing those whose process is gone.
- PostgreSQL: the transaction that records events also NOTIFYs the store's channel
  (shared/postgres.py); a listener LISTENs on a connection of its own.

`SCRM_WAKE_ON_COMMIT=n` turns the listening off (behind a pooler that cannot LISTEN, say): every
reader then polls at its fallback interval, as before.
"""

from __future__ import annotations

import os
import select
import socket
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import structlog

from shared.settings import Settings

log = structlog.get_logger()

_SUN_PATH = 107  # bytes a socket's path may take (sockaddr_un), less its terminating zero


class Bell(Protocol):
    def fileno(self) -> int | None:
        """What to wait on: readable once rung; None while it cannot listen."""

    def owed(self) -> bool:
        """Whether to wake without waiting (it could not hear rings for a while)."""

    def drain(self) -> None:
        """Take every ring waiting, so the next wait waits for a new one."""

    def close(self) -> None: ...


class Doorbell:
    """Waits until one of its bells rings or the fallback poll is due; without bells it just sleeps.

    A ring wakes it no sooner than `gap` seconds after it last woke: a leader committing hundreds of
    times a second would otherwise have each of its readers read (and record its position) as often,
    several times the work of reading what those commits left together. Below one commit per gap
    nothing waits; above it a reader takes what the gap gathered in one batch and one commit
    (`SCRM_WAKE_GAP_MS`; bench/README.md has the trade at 50-200 tickets/s)."""

    def __init__(self, bells: Iterable[Bell] = (), gap: float = Settings.wake_gap):
        self._bells = list(bells)
        self._gap = gap
        self._woke = 0.0

    def wait(self, timeout: float) -> bool:
        """Whether a bell rang within `timeout` seconds."""
        ready = {b.fileno(): b for b in self._bells}
        ready.pop(None, None)
        if any([b.owed() for b in self._bells]):  # each asked: each owed ring is paid now
            return True
        if not ready:
            time.sleep(timeout)
            return False
        rung, _, _ = select.select(list(ready), [], [], timeout)
        if rung:
            time.sleep(max(0.0, self._woke + self._gap - time.monotonic()))
            for fd in rung:
                ready[fd].drain()
        self._woke = time.monotonic()
        return bool(rung)

    def close(self) -> None:
        for bell in self._bells:
            bell.close()


def listen(stores: Iterable[Any], wake_on_commit: bool = True, gap: float = Settings.wake_gap) -> Doorbell:
    """A doorbell rung by commits to any of the stores (eventsourcing applications), or a silent one."""
    if not wake_on_commit:
        return Doorbell()
    bells = [bell() for store in stores if (bell := getattr(store.recorder, "bell", None))]
    return Doorbell((b for b in bells if b is not None), gap)


# --- SQLite: Unix datagram sockets in a folder beside the store's file ----------------------------


class SocketFolder:
    """The folder of a store's listening sockets, and its sockets' addresses (a folder's path may be
    too long for a socket address: it is then reached through an open descriptor of the folder)."""

    def __init__(self, store_file: str):
        self.path = Path(f"{store_file}.bells")
        self._prefix = f"{self.path}{os.sep}"  # a ring per commit builds an address per listener: no Path on the way
        self._fd: int | None = None

    def address(self, name: str) -> str:
        full = self._prefix + name
        if len(full.encode()) <= _SUN_PATH:
            return full
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        return f"/proc/self/fd/{self._fd}/{name}"

    def names(self) -> list[str]:
        try:
            return os.listdir(self.path)
        except FileNotFoundError:
            return []


class SocketRinger:
    """The writer's side: an empty datagram to every listener of the store, never waiting."""

    def __init__(self, store_file: str):
        self._folder = SocketFolder(store_file)
        self._socket: socket.socket | None = None

    def ring(self) -> None:
        names = self._folder.names()
        if not names:
            return
        if self._socket is None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.setblocking(False)
        for name in names:
            try:
                self._socket.sendto(b"", self._folder.address(name))
            except BlockingIOError:
                pass  # its queue is full: it has rings waiting already
            except (ConnectionRefusedError, FileNotFoundError):
                _remove(self._folder.path / name)  # its listener is gone (killed, say)
            except OSError as error:  # a ring is a hint: never fail the commit for it
                log.warning("doorbell.ring_failed", error=str(error))


class SocketBell:
    """A listener's socket in the store's folder, removed when closed."""

    def __init__(self, store_file: str):
        folder = SocketFolder(store_file)
        folder.path.mkdir(exist_ok=True)
        self._path = folder.path / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(folder.address(self._path.name))
        self._socket.setblocking(False)

    def fileno(self) -> int | None:
        return self._socket.fileno()

    def owed(self) -> bool:
        return False

    def drain(self) -> None:
        try:
            while True:
                self._socket.recv(16)
        except BlockingIOError:
            pass

    def close(self) -> None:
        self._socket.close()
        _remove(self._path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# --- PostgreSQL: LISTEN on a connection of its own ------------------------------------------------


class ListeningConnection:
    """LISTENs to a channel; a lost connection is made again at most every `retry` seconds, and its
    coming back counts as a ring (what was recorded meanwhile was never announced)."""

    def __init__(self, connect: Any, channel: str, retry: float = 5.0):
        self._connect, self._channel, self._retry = connect, channel, retry
        self._conn: Any = None
        self._next_try = 0.0
        self._owed = False
        self._open()

    def _open(self) -> None:
        import psycopg
        from psycopg.sql import SQL, Identifier

        self._next_try = time.monotonic() + self._retry
        try:
            self._conn = self._connect()
            self._conn.execute(SQL("LISTEN {}").format(Identifier(self._channel)))
        except psycopg.Error as error:
            log.warning("doorbell.listen_failed", channel=self._channel, error=str(error))
            self._discard()

    def fileno(self) -> int | None:
        if self._conn is None and time.monotonic() >= self._next_try:
            self._open()
            self._owed = self._conn is not None
        return None if self._conn is None else self._conn.pgconn.socket

    def owed(self) -> bool:
        owed, self._owed = self._owed, False
        return owed

    def drain(self) -> None:
        pgconn = self._conn.pgconn
        try:
            pgconn.consume_input()
            while pgconn.notifies() is not None:
                pass
        except Exception as error:  # the connection broke: poll until it is back
            log.warning("doorbell.listen_lost", channel=self._channel, error=str(error))
            self._discard()

    def _discard(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None

    def close(self) -> None:
        self._discard()
