"""A request's answer within its deadline, whatever the store does.

A stopped or unreachable PostgreSQL would hold a request for as long as it stays away (a
commit in flight waits for its answer; libpq has no timeout for that). So a bounded request's
work runs apart from it (a greenlet under gunicorn's gevent worker, a thread elsewhere) and the
request waits for it no longer than the deadline: then it answers 503 with Retry-After, and the
work goes on alone, to be recorded or not when the store answers. The outcome of such a 503 is
unknown, which every write of the platform can afford: a retry with the same id is recognised
(ids are derived from it), answered with what was recorded, and never records twice.

While work that missed its deadline is still waiting on the store, new requests are answered
503 at once rather than joining the wait.

A web process also tells libpq (through its environment, which eventsourcing's pool leaves to
it) to give up connecting after the deadline and to have the server cancel any statement that
runs longer, so nothing it starts waits on a slow server for ever.
"""

from __future__ import annotations

import _thread
import contextvars
import functools
import math
import os
import threading
from typing import Any, TypeVar
from collections.abc import Callable

from flask import Flask, copy_current_request_context, current_app

from shared.errors import Unavailable

T = TypeVar("T")

# What a 503 from a bounded write means, for the APIs' documents.
OUTCOME_UNKNOWN = (
    "The store did not answer within the request deadline (SCRM_REQUEST_DEADLINE): the outcome "
    "is unknown, it may have been recorded. Retry after Retry-After with the same id (submission "
    "id, request id, the channel's message id): that is safe, a recorded one is answered 200 "
    "with the same ticket, and nothing is ever recorded twice."
)


class Deadline:
    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"a deadline must be a positive number of seconds, not {seconds!r}")
        self.seconds = seconds
        self._lock = threading.Lock()
        self._overdue = 0  # works that missed their deadline and are still running

    def run(self, work: Callable[[], T]) -> T:
        """`work()`'s result or exception, or Unavailable once the deadline has passed (the work
        then finishes on its own and its outcome is dropped)."""
        if self._overdue:
            raise Unavailable("the event store is not answering; try again shortly")
        attempt = _Attempt(work, self)
        # Looked up now, not at import: under gevent (patched after this module is imported) it
        # starts a greenlet, ~3x cheaper than a patched threading.Thread.
        _thread.start_new_thread(contextvars.copy_context().run, (attempt.run,))
        if not attempt.done.wait(self.seconds):
            with self._lock:
                if not attempt.done.is_set():
                    attempt.abandoned = True
                    self._overdue += 1
                    raise Unavailable(
                        f"no answer from the event store within {self.seconds:g} s; the outcome "
                        "is unknown: retry with the same id, which is safe"
                    )
        return attempt.outcome()

    def install(self, app: Flask) -> None:
        """The deadline of `app`'s views marked `bounded`."""
        app.extensions["deadline"] = self

    def _settle(self, attempt: _Attempt) -> None:
        with self._lock:
            attempt.done.set()
            if attempt.abandoned:
                self._overdue -= 1


class _Attempt:
    def __init__(self, work: Callable[[], Any], deadline: Deadline):
        self._work = work
        self._deadline = deadline
        self.done = threading.Event()
        self.abandoned = False
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as error:  # handed to the waiting request
            self._error = error
        finally:
            self._deadline._settle(self)

    def outcome(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


def bounded(view: Callable[..., Any]) -> Callable[..., Any]:
    """A Flask view answered within its app's deadline (`Deadline.install`); it runs in a copy of
    the request's context."""

    @functools.wraps(view)
    def within_deadline(*args: Any, **kwargs: Any) -> Any:
        deadline: Deadline = current_app.extensions["deadline"]
        return deadline.run(copy_current_request_context(lambda: view(*args, **kwargs)))

    return within_deadline


def bound_database_waits(seconds: float) -> None:
    """Every PostgreSQL connection this process opens from now on gives up connecting after
    `seconds` and has the server cancel a statement running longer (libpq reads both from the
    environment; a PGOPTIONS already set is kept)."""
    os.environ["PGCONNECT_TIMEOUT"] = str(max(2, math.ceil(seconds)))  # libpq's minimum is 2 s
    options = os.environ.get("PGOPTIONS", "")
    os.environ["PGOPTIONS"] = f"{options} -c statement_timeout={math.ceil(seconds * 1000)}".strip()
