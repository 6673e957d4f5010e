"""Group commit: concurrent requests share one transaction.

One transaction per request tops out near 1,000/s (eventsourcing locks the events table
per insert); committing whatever is queued as one transaction keeps every answer durable
and lets throughput grow with concurrency. A request waits for its own outcome.

There is no committer thread: the request at the head of the queue commits for everyone
queued behind it, then hands the lead to the next one waiting (the write-batch scheme of
LevelDB). Every hand-over between threads is a wait for the GIL behind busy request
threads; a committer thread cost one more per transaction (bench/README.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any
from collections.abc import Callable, Sequence

import structlog

from shared.errors import Unavailable
from shared.eventstore import IntegrityError

log = structlog.get_logger()

_PENDING = object()


class _Waiter:
    __slots__ = ("item", "wake", "leads", "outcome")

    def __init__(self, item: Any):
        self.item = item
        self.wake = threading.Event()
        self.leads = False
        self.outcome: Any = _PENDING  # True, or the exception to raise


class GroupCommitter:
    """`save(items)` commits all items in one transaction or raises. Items must be
    values that can be saved again (e.g. lists of events, not aggregates whose
    pending events a failed save has already drained).

    When a group fails on IntegrityError (an item already exists) each item is retried
    alone so one duplicate cannot fail its neighbours; the duplicate's caller gets the
    IntegrityError.
    """

    def __init__(
        self,
        save: Callable[[Sequence[Any]], None],
        *,
        max_group: int = 500,
        stall_after: float = 2.0,
        on_group: Callable[[int, float], None] = lambda n, seconds: None,
    ):
        self._save = save
        self._max_group = max_group
        self._stall_after = stall_after
        self._on_group = on_group
        self._lock = threading.Lock()
        self._queue: deque[_Waiter] = deque()
        self._led = False  # a leader is committing, or has been named and is about to
        self._busy_since: float | None = None

    def commit(self, item: Any, timeout: float) -> None:
        """Return once `item` is durably saved. Raises IntegrityError if it was saved
        before, Unavailable if the store fails, is stalled, or takes longer than `timeout`
        (the item may then still be saved: the caller retries with the same identity)."""
        self.check_answering()
        me = _Waiter(item)
        with self._lock:
            self._queue.append(me)
            me.leads, self._led = not self._led, True
        if not me.leads and not me.wake.wait(timeout):
            with self._lock:  # leads and outcome change only under the lock
                if not me.leads and me.outcome is _PENDING:
                    if me in self._queue:
                        self._queue.remove(me)
                    raise Unavailable("recording took too long; retry with the same submission id")
        if me.outcome is _PENDING:  # named leader: commit for the queue, this item first
            self._lead()
        if me.outcome is not True:
            raise me.outcome

    def check_answering(self) -> None:
        """Raise Unavailable while a commit has been stuck for a while: a caller about to read
        the store first (which would wait as long) is answered at once instead."""
        busy_since = self._busy_since
        if busy_since is not None and time.monotonic() - busy_since > self._stall_after:
            raise Unavailable("the event store is not answering; try again shortly")

    def _lead(self) -> None:
        with self._lock:
            group = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_group))]
        self._busy_since = started = time.monotonic()
        try:
            self._commit(group)
        finally:
            self._busy_since = None
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor:
                    successor.leads = True
                self._led = successor is not None
            for waiter in group:
                waiter.wake.set()
            if successor:
                successor.wake.set()
        self._on_group(len(group), time.monotonic() - started)

    def _commit(self, group: list[_Waiter]) -> None:
        try:
            self._save([w.item for w in group])
        except IntegrityError:
            for waiter in group:
                self._commit_alone(waiter)
            return
        except Exception as error:  # every waiter must hear about it
            log.warning("group_commit.failed", size=len(group), error=repr(error))
            for waiter in group:
                waiter.outcome = Unavailable(f"could not record: {error.__class__.__name__}")
            return
        for waiter in group:
            waiter.outcome = True

    def _commit_alone(self, waiter: _Waiter) -> None:
        try:
            self._save([waiter.item])
        except IntegrityError as error:
            waiter.outcome = error
        except Exception as error:
            waiter.outcome = Unavailable(f"could not record: {error.__class__.__name__}")
        else:
            waiter.outcome = True
