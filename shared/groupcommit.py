"""Group commit: concurrent requests share one transaction.

One transaction per request tops out near 1,000/s (eventsourcing locks the events table
per insert); committing whatever is queued as one transaction keeps every answer durable
and lets throughput grow with concurrency. A request waits for its own outcome.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Sequence

import structlog

from shared.errors import Unavailable
from shared.eventstore import IntegrityError

log = structlog.get_logger()


class GroupCommitter:
    """`save(items)` commits all items in one transaction or raises. Items must be
    values that can be saved again (e.g. lists of events, not aggregates whose
    pending events a failed save has already drained).

    When a group fails on IntegrityError (an item already exists) each item is retried
    alone so one duplicate cannot fail its neighbours; the duplicate's future gets the
    IntegrityError.
    """

    def __init__(self, save: Callable[[Sequence[Any]], None], *, max_group: int = 500,
                 stall_after: float = 2.0, on_group: Callable[[int, float], None] = lambda n, seconds: None):
        self._save = save
        self._max_group = max_group
        self._stall_after = stall_after
        self._on_group = on_group
        self._queue: queue.SimpleQueue[tuple[Any, Future]] = queue.SimpleQueue()
        self._busy_since: float | None = None
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> Future:
        busy_since = self._busy_since
        if busy_since is not None and time.monotonic() - busy_since > self._stall_after:
            raise Unavailable("the event store is not answering; try again shortly")
        future: Future = Future()
        self._queue.put((item, future))
        return future

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < self._max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._busy_since = started = time.monotonic()
            try:
                self._commit(group)
            finally:
                self._busy_since = None
            self._on_group(len(group), time.monotonic() - started)

    def _commit(self, group: list[tuple[Any, Future]]) -> None:
        try:
            self._save([item for item, _ in group])
        except IntegrityError:
            for item, future in group:
                self._commit_alone(item, future)
            return
        except Exception as error:  # noqa: BLE001 - every waiter must hear about it
            log.warning("group_commit.failed", size=len(group), error=repr(error))
            for _, future in group:
                future.set_exception(Unavailable(f"could not record: {error.__class__.__name__}"))
            return
        for _, future in group:
            future.set_result(True)

    def _commit_alone(self, item: Any, future: Future) -> None:
        try:
            self._save([item])
        except IntegrityError as error:
            future.set_exception(error)
        except Exception as error:  # noqa: BLE001
            future.set_exception(Unavailable(f"could not record: {error.__class__.__name__}"))
        else:
            future.set_result(True)
