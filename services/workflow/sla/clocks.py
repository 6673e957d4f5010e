"""The SLA clocks a ticket runs, as an immutable value rebuilt from its Sla* events, and the pure
computations that produce those events' data. No clock is read here: `now` is always given.

A clock runs for one visit of one node and one target (response or resolution). Its timers are
working-time offsets from the start (warn, breach, escalate.N, vip.N) with their due instants in
UTC; a timer fires once (SlaWarned, SlaBreached, Escalated) and is then in `fired`. Pausing counts
the working time used so far and clears the dues; resuming sets them again from the resume
instant, so a pause shifts every deadline by the working time it lasted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from collections.abc import Mapping

from services.workflow.sla.calendar import Calendar
from services.workflow.sla.rules import CLOCKS, NodeSla


@dataclass(frozen=True)
class Timer:
    key: str  # warn | breach | escalate.N | vip.N
    offset: float  # working seconds from the clock's start
    due: datetime | None  # None while the clock is paused

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "offset": self.offset, "due": self.due}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Timer:
        return cls(data["key"], float(data["offset"]), data.get("due"))


@dataclass(frozen=True)
class Clock:
    node: str
    visit: int
    kind: str  # response | resolution
    target: str  # as the template says it ("2h", "next_business_day" …)
    started: datetime
    timers: tuple[Timer, ...]
    fired: tuple[str, ...] = ()
    consumed: float = 0.0  # working seconds used before `anchor`
    anchor: datetime | None = None  # when it last started counting; None while paused

    @property
    def paused(self) -> bool:
        return self.anchor is None

    @property
    def deadline(self) -> datetime | None:
        return next((t.due for t in self.timers if t.key == "breach"), None)

    @property
    def breached(self) -> bool:
        return "breach" in self.fired

    def pending(self) -> list[Timer]:
        return [t for t in self.timers if t.key not in self.fired]

    def view(self) -> dict[str, Any]:
        pending = [t for t in self.pending() if t.due is not None]
        return {
            "kind": self.kind,
            "target": self.target,
            "started": self.started,
            "deadline": self.deadline,
            "paused": self.paused,
            "breached": self.breached,
            "fired": list(self.fired),
            "next": ({"timer": pending[0].key, "due": pending[0].due} if pending else None),
        }


@dataclass(frozen=True)
class SlaBook:
    clocks: tuple[Clock, ...] = ()  # the running ones (not met yet), in the order they started
    visits: Mapping[str, int] = field(default_factory=dict)  # node -> how many times a clock started there

    def __post_init__(self) -> None:
        object.__setattr__(self, "visits", MappingProxyType(dict(self.visits)))

    def at(self, node: str) -> list[Clock]:
        return [c for c in self.clocks if c.node == node]

    def clock(self, node: str, kind: str) -> Clock | None:
        return next((c for c in self.clocks if c.node == node and c.kind == kind), None)

    def due(self, now: datetime) -> list[tuple[Clock, Timer]]:
        """Every timer due at `now`, in the order they fire (by due instant, then as scheduled)."""
        found = [
            (t.due, i, j, c, t)
            for i, c in enumerate(self.clocks)
            for j, t in enumerate(c.pending())
            if t.due is not None and t.due <= now
        ]
        return [(c, t) for *_, c, t in sorted(found, key=lambda f: f[:3])]

    def next_due(self) -> datetime | None:
        return min((t.due for c in self.clocks for t in c.pending() if t.due is not None), default=None)

    # --- events -------------------------------------------------------------------------

    def applied(self, what: str, data: Mapping[str, Any]) -> SlaBook:
        """This book after the Sla event `what` with `data` (its fields)."""
        node = data["node"]
        if what == "SlaStarted":
            started = [
                Clock(
                    node,
                    data["visit"],
                    c["kind"],
                    c["target"],
                    data["at"],
                    tuple(Timer.from_dict(t) for t in c["timers"]),
                    anchor=data["at"],
                )
                for c in data["clocks"]
            ]
            return replace(self, clocks=self.clocks + tuple(started), visits={**self.visits, node: data["visit"]})
        if what == "SlaMet":
            return replace(self, clocks=tuple(c for c in self.clocks if (c.node, c.kind) != (node, data["clock"])))
        if what == "SlaPaused":
            return self._each(
                node,
                lambda c: replace(
                    c,
                    consumed=data["consumed"][c.kind],
                    anchor=None,
                    timers=tuple(t if t.key in c.fired else replace(t, due=None) for t in c.timers),
                ),
            )
        if what == "SlaResumed":
            return self._each(
                node,
                lambda c: replace(
                    c,
                    anchor=data["at"],
                    timers=tuple(replace(t, due=data["dues"][c.kind].get(t.key, t.due)) for t in c.timers),
                ),
            )
        # SlaWarned, SlaBreached, Escalated: one timer fired
        return self._each(
            node, lambda c: replace(c, fired=c.fired + (data["timer"],)) if c.kind == data["clock"] else c
        )

    def _each(self, node: str, change: Any) -> SlaBook:
        return replace(self, clocks=tuple(change(c) if c.node == node else c for c in self.clocks))


NO_CLOCKS = SlaBook()  # a new ticket's book; immutable, so every new ticket shares this one


def start(
    sla: NodeSla,
    calendar: Calendar,
    node: str,
    visit: int,
    now: datetime,
    region: str | None,
    vip: bool,
    priority: str = "normal",
) -> dict[str, Any]:
    """SlaStarted's data: which rule applies to the ticket's region and priority, and every timer's due
    instant."""
    targets = sla.targets(region, priority)
    clocks = []
    for kind in CLOCKS:
        target = getattr(targets, kind)
        if not target:
            continue
        working = calendar.offset(now, target)
        timers = [
            Timer(key, offset.total_seconds(), calendar.add(now, offset))
            for key, offset in sla.schedule(working, calendar, vip)
        ]
        clocks.append({"kind": kind, "target": target, "timers": [t.to_dict() for t in timers]})
    return {"node": node, "visit": visit, "rule": targets.rule, "vip": vip, "at": now, "clocks": clocks}


def pause(book: SlaBook, calendar: Calendar, node: str, now: datetime) -> dict[str, Any]:
    """SlaPaused's data: the working time each clock at `node` has used up to `now`."""
    used = {c.kind: c.consumed + calendar.between(c.anchor, now).total_seconds() for c in book.at(node)}
    return {"node": node, "visit": book.visits[node], "at": now, "consumed": used}


def resume(book: SlaBook, calendar: Calendar, node: str, now: datetime) -> dict[str, Any]:
    """SlaResumed's data: each pending timer due again, the working time already used counted off."""
    dues = {
        c.kind: {t.key: calendar.add(now, timedelta(seconds=max(0.0, t.offset - c.consumed))) for t in c.pending()}
        for c in book.at(node)
    }
    deadlines = {kind: timers.get("breach") for kind, timers in dues.items()}
    return {"node": node, "visit": book.visits[node], "at": now, "dues": dues, "deadlines": deadlines}
