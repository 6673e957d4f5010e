"""The SLA part of a ticket row, folded from the ticket's Sla* events: its running clocks with their
deadlines, and how many clocks were kept or missed. No I/O, and no clock is read here.

"Overdue" is decided when the rows are read (queries.py): an open ticket with a recorded breach
(SlaBreached, derived from events) or a running clock whose deadline is at or before the reader's
now (so a ticket shows overdue even while the timer worker lags). A paused clock has no deadline.

A clock counts as missed once it is met late or breached: a breach is final (the domain never
meets a breached clock on time), so compliance need not wait for the clock to stop.
"""

from __future__ import annotations

from datetime import datetime, UTC
from typing import Any


def fresh() -> dict[str, Any]:
    """A new ticket's: no clock yet."""
    return {"running": [], "on_time": 0, "missed": 0}


def utc(instant: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds: such strings compare as the instants do (SQL text order)."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds") if instant else None


def folded(sla: dict[str, Any], name: str, event: Any) -> dict[str, Any] | None:
    """The SLA part after the Sla event called `name` (None: not an event it keeps)."""
    running = [dict(c) for c in sla["running"]]
    node = event.node
    here = [c for c in running if c["node"] == node]
    if name == "SlaStarted":
        running += [
            {"node": node, "clock": c["kind"], "deadline": utc(_breach_due(c)), "breached": False} for c in event.clocks
        ]
    elif name == "SlaMet":
        clock = next((c for c in here if c["clock"] == event.clock), None)
        if clock is None:
            return None
        running.remove(clock)
        late = clock["breached"] or not event.on_time
        on_time, missed = sla["on_time"] + (not late), sla["missed"] + (late and not clock["breached"])
        return {"running": running, "on_time": on_time, "missed": missed}
    elif name == "SlaPaused":
        for c in here:
            c["deadline"] = c["deadline"] if c["breached"] else None  # a fired breach keeps its instant
    elif name == "SlaResumed":
        for c in here:
            c["deadline"] = c["deadline"] if c["breached"] else utc(event.deadlines.get(c["clock"]))
    elif name == "SlaBreached":
        for c in here:
            if c["clock"] == event.clock and not c["breached"]:
                c["breached"] = True
                c["deadline"] = utc(event.deadline) or c["deadline"]
                return {**sla, "running": running, "missed": sla["missed"] + 1}
        return None
    else:  # warnings and escalations change no deadline
        return None
    return {**sla, "running": running}


def _breach_due(clock: dict[str, Any]) -> datetime | None:
    return next((t["due"] for t in clock["timers"] if t["key"] == "breach"), None)


def earliest(sla: dict[str, Any]) -> str | None:
    """The earliest deadline of the running clocks (None: none has one)."""
    return min((c["deadline"] for c in sla["running"] if c["deadline"]), default=None)


def breached(sla: dict[str, Any]) -> int:
    """How many running clocks have a recorded breach."""
    return sum(c["breached"] for c in sla["running"])
