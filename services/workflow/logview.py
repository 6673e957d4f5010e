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
from contextlib import contextmanager
from typing import Any
from collections.abc import Callable, Iterator
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.workflow.dispatch.load import Load
from services.workflow.workload import Workload, ticket_topics

PAGE = 1000


class LogView:
    def __init__(self, app: Any, ticket_seen: Callable[[UUID, int], None] = lambda ticket, version: None):
        self._app = app
        self._ticket_seen = ticket_seen  # each ticket event read, by id and version (recent.py drops stale copies)
        self._fold = Workload()
        self._position = 0
        self._ticket_topics = set(ticket_topics())
        self._setups: dict[UUID, Any] = {}  # aggregate id -> the stored aggregate
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
                page = self._app.recorder.select_notifications(
                    start=self._position, limit=PAGE, inclusive_of_start=False
                )
                for notification in page:
                    self._setups.pop(notification.originator_id, None)
                    self._ticket_seen(notification.originator_id, notification.originator_version)
                    if notification.topic in self._ticket_topics:
                        self._fold.apply(self._app.mapper.to_domain_event(notification))
                if page:
                    self._position = page[-1].id
                if len(page) < PAGE:
                    return

    def load(self, tenant: str) -> Load:
        """The tenant's load as of the last catch-up."""
        with self._lock:
            return self._fold.load(tenant)

    def aggregate(self, aggregate_id: UUID) -> Any | None:
        """A set-up aggregate as of the last catch-up (or later): a shared copy, to read, never to change."""
        found = self._setups.get(aggregate_id)
        if found is not None:
            return found
        with self._lock:  # a catch-up meanwhile must not drop it before it is kept
            try:
                found = self._setups[aggregate_id] = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:  # not kept: any name in a URL would grow the cache
                return None
            return found
