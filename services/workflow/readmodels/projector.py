"""Keeps the read-model rows up to date with workflow's own log: a follower of its own notification
log. Each page of events is folded into the rows it touches, which are written together with the new
position, so a crash loses nothing and two projectors never apply a page twice (store.Moved).

A rebuild folds the same events by the same rules (`fold_page`), from the start of the log, into
fresh tables it swaps in at the end (store.swap_in): until then the views stay as they were, so a
rebuild stopped midway changes nothing, and the next one starts again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import structlog

from eventsourcing.utils import get_topic, resolve_topic

from shared.eventstore import ServiceApplication
from shared.ownlog import own_events

from services.workflow.domain import Ticket
from services.workflow.readmodels.rows import Row, fold
from services.workflow.readmodels.store import Moved, ViewStore
from services.workflow.workload import ticket_topics

PAGE = 500  # events a live step folds: a catch-up before a read stays short
REBUILD_PAGE = 2000  # events a rebuild reads at a time
KEEP = 50_000  # rows a rebuild holds in memory before it writes them out (and reads them back when needed)
log = structlog.get_logger()


def sla_topics() -> list[str]:
    """Every SLA clock event (started, met, paused, resumed, fired): deadlines and compliance."""
    found, todo = [], [Ticket.SlaEvent]
    while todo:
        cls = todo.pop()
        found.append(get_topic(cls))
        todo += cls.__subclasses__()
    return sorted(found)


def fold_page(rows: dict[str, Row], events: Iterable[Any]) -> set[str]:
    """Fold `events` into `rows` (by ticket id, holding every row they touch that exists); the ids of
    the rows that changed."""
    changed = set()
    for event in events:
        key = str(event.originator_id)
        row = fold(rows.get(key), event)
        if row is not None:
            rows[key] = row
            changed.add(key)
    return changed


class Projector:
    def __init__(self, app: ServiceApplication):
        self.app = app
        self.store = ViewStore(app.recorder.datastore)
        topics = ticket_topics() + [get_topic(Ticket.Prioritized)] + sla_topics()
        self._read = own_events(app, [resolve_topic(t) for t in topics])

    def step(self) -> int:
        """Fold the next page of the log; how many positions it moved (0: the view is up to date)."""
        since = self.store.position()
        last, events = self._read(since, PAGE)
        if last == since:
            return 0
        rows = self.store.rows({str(e.originator_id) for e in events})
        changed = fold_page(rows, events)
        try:
            self.store.save([rows[k] for k in sorted(changed)], since, last)
        except Moved:
            pass  # another projector did this page: read on from where it got to
        return last - since

    def catch_up(self, progress: Callable[[int], None] = lambda position: None) -> None:
        """Fold until the view reflects the whole log; `progress` hears the position reached."""
        while self.step():
            progress(self.store.position())

    def rebuild(self, progress: Callable[[int], None] = lambda position: None) -> int:
        """Fold the whole log again into fresh tables and swap them in; the position they reflect.
        Events are decoded once and rows written once each (unless more than KEEP are open at once)."""
        self.store.start_rebuild()
        rows: dict[str, Row] = {}
        written = False  # rows already in the fresh tables: read back when touched, replaced when written
        position = 0
        while True:
            last, events = self._read(position, REBUILD_PAGE)
            if last == position:
                break
            if written:
                rows.update(self.store.rebuilt_rows({str(e.originator_id) for e in events} - rows.keys()))
            fold_page(rows, events)
            position = last
            if len(rows) >= KEEP:
                self.store.add_rebuilt(list(rows.values()), replace=written)
                rows, written = {}, True
            progress(position)
        self.store.swap_in(list(rows.values()), written, position)
        return position

    def run(self, stop: threading.Event, poll_timeout: float = 0.2) -> None:
        log.info("projector.started", view="ticket_rows")
        while not stop.is_set():
            if not self.step():
                stop.wait(poll_timeout)
        log.info("projector.stopped", view="ticket_rows")


def rebuild(app: ServiceApplication, progress: Callable[[int], None] = lambda position: None) -> int:
    """`scrm workflow rebuild-views`: the read models folded again from the whole log."""
    return Projector(app).rebuild(progress)
