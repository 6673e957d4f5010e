"""A tenant's live load as assignment strategies see it: open tickets per handler and when each was
last assigned. Folded from Ticket events elsewhere (services/workflow/workload.py); here only the
value, which an assigner updates with each assignment it makes, so that several assignments made
before anything is committed (a split into two nodes, a batch of new tickets) see each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Load:
    open: dict[str, int] = field(default_factory=dict)  # user -> open tickets they handle
    last: dict[str, datetime] = field(default_factory=dict)  # user -> when they were last assigned
    turn: dict[str, int] = field(default_factory=dict)  # user -> order of their last assignment (later: larger)

    def of(self, user: str) -> int:
        return self.open.get(user, 0)

    def assigned(self, user: str, at: datetime) -> None:
        """Several assignments may share one `at` (a batch): `turn` still orders them."""
        self.open[user] = self.of(user) + 1
        self.last[user] = max(at, self.last.get(user, at))
        self.turn[user] = max(self.turn.values(), default=0) + 1

    def copy(self) -> Load:
        return Load(dict(self.open), dict(self.last), dict(self.turn))
