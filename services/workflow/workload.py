"""Each tenant's live load (open tickets per handler, when each was last assigned), folded from the
Ticket events in workflow's own log: a view, never a second source of truth.

`Workload` is the pure fold. logview.LogView keeps one per process, caught up from the log before
every action (one indexed query for what was committed since), so the worker's policy and the staff
actions API see the same load, computed by the same function from the same store; a new process
folds the log from the start.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.utils import get_topic

from services.workflow.dispatch.load import Load
from services.workflow.domain import Ticket


def _stepped(cls: type) -> list[type]:
    return [cls] + [sub for child in cls.__subclasses__() for sub in _stepped(child)]


def ticket_topics() -> list[str]:
    """The Ticket events that say where a ticket stands and who handles it."""
    return [get_topic(cls) for cls in (Ticket.Opened, Ticket.Assigned, Ticket.Unassigned, *_stepped(Ticket.Stepped))]


def _active(progress: dict[str, Any]) -> set[str]:
    return {t["node"] for t in progress["tokens"]} if progress["status"] == "open" else set()


class Workload:
    def __init__(self) -> None:
        self._handling: dict[str, dict[UUID, dict[str, str]]] = {}  # tenant -> open ticket -> node -> user
        self._open: dict[str, Counter[str]] = {}  # tenant -> user -> open tickets
        self._last: dict[str, dict[str, datetime]] = {}  # tenant -> user -> last assigned
        self._turn: dict[str, dict[str, int]] = {}  # tenant -> user -> order of their last assignment
        self._turns = 0

    def apply(self, event: Any) -> None:
        tenant, ticket = event.tenant, event.originator_id
        nodes = self._handling.setdefault(tenant, {}).get(ticket, {})
        if isinstance(event, Ticket.Opened):
            users = {a["node"]: a["value"] for a in event.assignments if a["kind"] == "user"}
            self._touch(tenant, event.timestamp, users.values())
            self._set(tenant, ticket, {n: u for n, u in users.items() if n in _active(event.progress)})
        elif isinstance(event, Ticket.Assigned):
            changed = {n: u for n, u in nodes.items() if n != event.node}
            if event.kind == "user":
                changed[event.node] = event.value
                self._touch(tenant, event.timestamp, [event.value])
            self._set(tenant, ticket, changed)
        elif isinstance(event, Ticket.Unassigned):  # waiting in a queue: nobody's load
            self._set(tenant, ticket, {n: u for n, u in nodes.items() if n != event.node})
        elif isinstance(event, Ticket.Stepped):
            active = _active(event.progress)
            self._set(tenant, ticket, {n: u for n, u in nodes.items() if n in active})

    def load(self, tenant: str) -> Load:
        return Load(
            dict(self._open.get(tenant, {})), dict(self._last.get(tenant, {})), dict(self._turn.get(tenant, {}))
        )

    def _touch(self, tenant: str, at: datetime, users: Iterable[str]) -> None:
        last, turn = self._last.setdefault(tenant, {}), self._turn.setdefault(tenant, {})
        for user in users:
            last[user] = max(at, last.get(user, at))
            self._turns += 1
            turn[user] = self._turns

    def _set(self, tenant: str, ticket: UUID, nodes: dict[str, str]) -> None:
        """A ticket counts once for each user who handles one or more of its open nodes."""
        handling, counts = self._handling[tenant], self._open.setdefault(tenant, Counter())
        counts.subtract(set(handling.get(ticket, {}).values()))
        counts.update(set(nodes.values()))
        if nodes:
            handling[ticket] = nodes
        else:
            handling.pop(ticket, None)
        for user in [u for u, n in counts.items() if n <= 0]:
            del counts[user]
