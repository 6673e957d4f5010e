"""What one process knows from workflow's own log, caught up with one read of what was committed since.

Staff actions need a tenant's set-up (templates, staff directory, access, known codes) and live load on
every call. Asking the store for each (the last version of every set-up aggregate, then the log for
the load) cost four trips an action; here one read of the log since the last position says which
set-up aggregates changed (their cached copies are dropped, to be read again when next asked for)
and folds the ticket events into the load. Another process's change is seen by the next catch-up.

`pinned()` makes one catch-up serve everything inside it (a request: its credentials check, the
action, the answer's view), per thread or greenlet; callers waiting while one catch-up reads share
the next one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any
from collections.abc import Callable, Iterable, Iterator, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Notification

from services.workflow.dispatch.load import Load
from services.workflow.workload import Workload, ticket_topics

PAGE = 1000
ABSENT_KEPT = 10_000  # ids known not to exist (a tenant without customer merges, a name in a URL), bounded


class LogView:
    def __init__(self, app: Any, ticket_seen: Callable[[UUID, int], None] = lambda ticket, version: None):
        self._app = app
        self._ticket_seen = ticket_seen  # each ticket event read, by id and version (recent.py drops stale copies)
        self._fold = Workload()
        self._position = 0
        self._ticket_topics = frozenset(ticket_topics())
        self._setups: dict[UUID, Any] = {}  # aggregate id -> the stored aggregate
        self._absent: OrderedDict[UUID, None] = OrderedDict()  # ids the store did not have
        self._ours: dict[tuple[UUID, int], Any] = {}  # events this process is committing: not decoded again
        self._lock = threading.RLock()
        self._reads = 0  # catch-ups begun: concurrent callers share one that began after they asked
        self._pins = threading.local()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Inside, the log is read at most once (at the first catch-up)."""
        depth = getattr(self._pins, "depth", 0)
        self._pins.depth = depth + 1
        if depth == 0:
            self._pins.caught_up = False
        try:
            yield
        finally:
            self._pins.depth = depth

    def catch_up(self) -> None:
        if getattr(self._pins, "depth", 0):
            if self._pins.caught_up:
                return
            self._pins.caught_up = True
        asked = self._reads
        with self._lock:
            if self._reads > asked:  # a read that began after the ask has finished: it saw what we would
                return
            self._reads += 1
            while True:
                page = self._read(self._position)
                for notification in page:
                    self._setups.pop(notification.originator_id, None)
                    self._absent.pop(notification.originator_id, None)
                    self._ticket_seen(notification.originator_id, notification.originator_version)
                    ours = self._ours.pop((notification.originator_id, notification.originator_version), None)
                    if notification.topic in self._ticket_topics:
                        self._fold.apply(ours or self._app.mapper.to_domain_event(notification))
                if page:
                    self._position = page[-1].id
                if len(page) < PAGE:
                    return

    def _read(self, after: int) -> Sequence[Notification]:
        recorder = self._app.recorder
        if hasattr(recorder, "select_log"):  # the service's own recorders: one lean read
            return recorder.select_log(after, PAGE, self._ticket_topics)
        return recorder.select_notifications(start=after, limit=PAGE, inclusive_of_start=False)  # in memory

    @contextmanager
    def committing(self, events: list[Any]) -> Iterator[None]:
        """Around this process's commit of ticket events: the catch-up that reads them back folds these
        objects rather than decoding their stored copies (if the commit fails, it never reads them)."""
        keys = [(e.originator_id, e.originator_version) for e in events]
        self._ours.update(zip(keys, events))
        try:
            yield
        except BaseException:
            for key in keys:
                self._ours.pop(key, None)
            raise

    def load(self, tenant: str) -> Load:
        """The tenant's load as of the last catch-up."""
        with self._lock:
            return self._fold.load(tenant)

    def aggregate(self, aggregate_id: UUID) -> Any | None:
        """A set-up aggregate as of the last catch-up (or later): a shared copy, to read, never to change."""
        found = self._setups.get(aggregate_id)
        if found is not None or aggregate_id in self._absent:
            return found
        with self._lock:  # a catch-up meanwhile must not drop it before it is kept
            try:
                found = self._setups[aggregate_id] = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:  # asked for on every request (a tenant's merges): known absent
                self._absent[aggregate_id] = None
                if len(self._absent) > ABSENT_KEPT:  # any name in a URL is asked for: the oldest go
                    self._absent.popitem(last=False)
                return None
            return found

    def forget(self, aggregate_ids: Iterable[UUID]) -> None:
        """This process just saved them: read them again when next asked for, even before a catch-up."""
        with self._lock:
            for aggregate_id in aggregate_ids:
                self._setups.pop(aggregate_id, None)
                self._absent.pop(aggregate_id, None)
