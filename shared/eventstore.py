"""The event-sourced application every service builds on.

A service's notification log is its outbox. What a service records in reaction to
upstream events is committed in one transaction together with the upstream position
(a tracking record), so processing a batch twice records nothing twice.
"""

from __future__ import annotations

from typing import Any, Iterable, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Tracking

__all__ = ["ServiceApplication", "UnitOfWork", "IntegrityError", "Tracking"]

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    """Aggregates touched while processing one batch, so later events in the batch see
    earlier changes; their new events are committed together.

    `optimistic` skips the existence look-up for ids the batch has not seen: creating an
    aggregate that already exists then fails the whole commit with IntegrityError, and the
    batch is processed again with `optimistic=False`. Creation is the common case on a
    backlog and a look-up per event would halve throughput.
    """

    def __init__(self, app: ServiceApplication, *, optimistic: bool = True):
        self._app = app
        self._optimistic = optimistic
        self._aggregates: dict[UUID, Aggregate] = {}

    def get(self, aggregate_id: UUID) -> Any | None:
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        return self._aggregates[aggregate_id]

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._aggregates:
            return True
        return not self._optimistic and self.get(aggregate_id) is not None

    def add(self, aggregate: Aggregate) -> None:
        self._aggregates[aggregate.id] = aggregate

    def pending_events(self) -> list[Any]:
        return [e for a in self._aggregates.values() for e in a.collect_events()]


class ServiceApplication(Application[UUID]):
    """An eventsourcing application whose recorder also keeps tracking positions."""

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def position(self, stream: str) -> int:
        """The last upstream position recorded for `stream` (0 when none)."""
        return self.process_recorder.max_tracking_id(stream) or 0

    def find(self, aggregate_id: UUID, tenant: str, kind: type[A] | None = None) -> A | None:
        """The aggregate if it exists, belongs to `tenant` and is a `kind`; another tenant's, or another
        type's, is not there. Ids come from URLs: a route passes the one type it serves, so the id of a
        staff directory or a customer used as a ticket id finds nothing."""
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if _belongs(found, tenant, kind) else None

    def current(self, aggregate_id: UUID, tenant: str, kind: type[A] | None = None) -> A | None:
        """Like `find`, for aggregates read on every request and rarely changed (a tenant's settings):
        a cached copy while its version is still the stored one, for one indexed read of the last
        event. Other processes' changes are seen at once. Read the copy, never change it: it is shared."""
        last = self.recorder.select_events(aggregate_id, desc=True, limit=1)
        if not last:
            return None
        cache = self.__dict__.setdefault("_current", {})
        cached = cache.get(aggregate_id)
        if cached is None or cached.version != last[0].originator_version:
            cached = cache[aggregate_id] = self.repository.get(aggregate_id)
        return cached if _belongs(cached, tenant, kind) else None

    def record(self, events: Iterable[Any], tracking: Tracking | None = None) -> None:
        """Commit new events and the upstream position in one transaction."""
        self.events.put(list(events), tracking=tracking)


def _belongs(aggregate: Aggregate, tenant: str, kind: type[Aggregate] | None) -> bool:
    return (kind is None or isinstance(aggregate, kind)) and getattr(aggregate, "tenant", None) == tenant


def open_store(service: str, env: dict[str, str]) -> ServiceApplication:
    """A bare application on `service`'s store, to read its log or keep positions there.

    The application's name picks the tables (`intake_events`, `intake_tracking` on
    PostgreSQL), so it must be the service's own."""
    named = type(f"{service.title()}Store", (ServiceApplication,), {"name": service})
    return named(env=env)
