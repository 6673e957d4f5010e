"""What a policy sees of a follower's unit of work, in memory: enough to run a policy in a unit test."""

from __future__ import annotations

from typing import Any
from uuid import UUID


class Store:
    def __init__(self, *aggregates: Any):
        self.aggregates: dict[UUID, Any] = {a.id: a for a in aggregates}

    def get(self, id_: UUID) -> Any | None:
        return self.aggregates.get(id_)

    def add(self, aggregate: Any) -> None:
        self.aggregates[aggregate.id] = aggregate
