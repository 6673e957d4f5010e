"""Keeps the read-model rows up to date with workflow's own log: a follower of its own notification
log. Each page of events is folded into the rows it touches, which are written together with the new
position, so a crash loses nothing and two projectors never apply a page twice (store.Moved)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from eventsourcing.utils import get_topic

from shared.eventstore import ServiceApplication

from services.workflow.domain import Ticket
from services.workflow.readmodels.rows import fold
from services.workflow.readmodels.store import Moved, ViewStore
from services.workflow.workload import ticket_topics

PAGE = 500
log = structlog.get_logger()


def sla_topics() -> list[str]:
    """Every SLA clock event (started, met, paused, resumed, fired): deadlines and compliance."""
    found, todo = [], [Ticket.SlaEvent]
    while todo:
        cls = todo.pop()
        found.append(get_topic(cls))
        todo += cls.__subclasses__()
    return sorted(found)


class Projector:
    def __init__(self, app: ServiceApplication):
        self.app = app
        self.store = ViewStore(app.recorder.datastore)
        self._topics = ticket_topics() + [get_topic(Ticket.Prioritized)] + sla_topics()

    def step(self) -> int:
        """Fold the next page of the log; how many events it held (0: the view is up to date)."""
        since = self.store.position()
        page = self.app.recorder.select_notifications(
            start=since, limit=PAGE, topics=self._topics, inclusive_of_start=False
        )
        if not page:
            return 0
        events = [self.app.mapper.to_domain_event(n) for n in page]
        rows = self.store.rows({str(e.originator_id) for e in events})
        changed = set()
        for event in events:
            key = str(event.originator_id)
            row = fold(rows.get(key), event)
            if row is not None:
                rows[key] = row
                changed.add(key)
        try:
            self.store.save([rows[k] for k in sorted(changed)], since, page[-1].id)
        except Moved:
            return len(page)  # another projector did this page: read on from where it got to
        return len(page)

    def catch_up(self, progress: Callable[[int], None] = lambda position: None) -> None:
        """Fold until the view reflects the whole log; `progress` hears the position reached."""
        while self.step():
            progress(self.store.position())

    def rebuild(self, progress: Callable[[int], None] = lambda position: None) -> None:
        self.store.clear()
        self.catch_up(progress)

    def run(self, stop: threading.Event, poll_timeout: float = 0.2) -> None:
        log.info("projector.started", view="ticket_rows")
        while not stop.is_set():
            if not self.step():
                stop.wait(poll_timeout)
        log.info("projector.stopped", view="ticket_rows")


def rebuild(app: ServiceApplication, progress: Callable[[int], None] = lambda position: None) -> None:
    """`scrm workflow rebuild-views`: the read models folded again from the whole log."""
    Projector(app).rebuild(progress)
