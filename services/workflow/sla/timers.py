"""The timer worker: fires tickets' SLA timers when they are due, exactly once, across restarts and
with several timer processes at once.

Timers are not kept anywhere but in the tickets' events. Every Sla* event carries the ticket's
`next_due` after it, so the index of pending timers is rebuilt from the log when a worker starts
(the last `next_due` of each ticket) and kept current by reading the log on (this worker's own
events included). A due ticket is loaded, its due timers recorded (Ticket.fire_timers) and saved
with optimistic concurrency on the ticket's version: when two processes race, one commits and
the other's save fails, reloads the ticket and finds nothing left to fire. A process killed before
its commit fired nothing; the next one (or the restarted one) fires it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from prometheus_client import Counter

from shared.ownlog import own_events
from shared.slices import WHOLE, Slice

from services.workflow.application import WorkflowApplication
from services.workflow.domain import Ticket

log = structlog.get_logger()
TIMERS_FIRED = Counter("scrm_sla_timers_fired_total", "SLA timers recorded (warnings, breaches, escalations)")
SLA_EVENTS = (
    Ticket.SlaStarted,
    Ticket.SlaMet,
    Ticket.SlaPaused,
    Ticket.SlaResumed,
    Ticket.SlaWarned,
    Ticket.SlaBreached,
    Ticket.Escalated,
)
RETRY_AFTER_ERROR = timedelta(minutes=1)


class TimerIndex:
    """Tickets with pending timers and their earliest due instant: a read model of the Sla* events."""

    def __init__(self, slice_: Slice = WHOLE):
        self.slice = slice_
        self.position = 0  # the last notification read
        self.due: dict[UUID, datetime] = {}

    def catch_up(self, app: WorkflowApplication, limit: int = 1000) -> int:
        """Read the Sla* events recorded since the last call; how many."""
        read, sla_events = 0, own_events(app, SLA_EVENTS, self.slice)
        while True:
            last, events = sla_events(self.position, limit)
            for event in events:
                self.set(event.originator_id, event.next_due)
            read += len(events)
            if last == self.position:
                return read
            self.position = last

    def set(self, ticket_id: UUID, due: datetime | None) -> None:
        if due is None:
            self.due.pop(ticket_id, None)
        else:
            self.due[ticket_id] = due

    def due_by(self, now: datetime) -> list[UUID]:
        return sorted((t for t, due in self.due.items() if due <= now), key=lambda t: self.due[t])

    def next_due(self) -> datetime | None:
        return min(self.due.values(), default=None)


class TimerWorker:
    def __init__(self, app: WorkflowApplication, slice_: Slice = WHOLE, interval: float = 0.5):
        self.app = app
        self.index = TimerIndex(slice_)
        self.interval = interval

    def run(self, stop: threading.Event) -> None:
        log.info("timers.started", pending=len(self.index.due))
        while not stop.is_set():
            self.run_once()
            stop.wait(self._pause())
        log.info("timers.stopped")

    def run_once(self) -> int:
        """Catch up with the log, then fire every ticket's due timers; how many timers fired."""
        self.index.catch_up(self.app)
        fired = 0
        for ticket_id in self.index.due_by(self.app.clock()):
            try:
                count, next_due = self.app.fire_timers(ticket_id)
            except Exception:  # one ticket must not stop every other ticket's timers
                log.exception("timers.failed", ticket=str(ticket_id))
                self.index.set(ticket_id, self.app.clock() + RETRY_AFTER_ERROR)
                continue
            self.index.set(ticket_id, next_due)
            fired += count
        TIMERS_FIRED.inc(fired)
        return fired

    def _pause(self) -> float:
        """Until the next timer, or the next look at the log, whichever comes first."""
        due = self.index.next_due()
        if due is None:
            return self.interval
        return max(0.0, min(self.interval, (due - self.app.clock()).total_seconds()))
