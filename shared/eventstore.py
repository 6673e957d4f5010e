"""The event-sourced application every service builds on.

Whatever a service records, the envelopes of its public events go into its outbox table in
the same transaction (shared/outbox.py). What a service records in reaction to upstream events
is committed in one transaction together with the upstream position (a tracking record), so
processing a batch twice records nothing twice.
"""

from __future__ import annotations

from typing import Any, TypeVar
from collections.abc import Iterable, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, IntegrityError, ProcessRecorder, StoredEvent, Tracking
from eventsourcing.utils import get_topic, strtobool

from shared import idempotency
from shared.outbox import Correlations, Outbox, OutboxRow

__all__ = [
    "Kept",
    "Positions",
    "positions",
    "ServiceApplication",
    "UnitOfWork",
    "IntegrityError",
    "Tracking",
    "belongs",
    "open_store",
]

_BACKFILLED = "outbox-backfilled"  # a tracking record: its presence says the upgrade is done

A = TypeVar("A", bound=Aggregate)
Positions = Tracking | Sequence[Tracking] | None  # what a commit records of where it is upstream


def positions(tracking: Positions) -> Sequence[Tracking]:
    """A commit's upstream positions: none, one (eventsourcing's `tracking`), or one per stream when a
    follower commits batches of several streams (a topic's partitions) together."""
    if tracking is None:
        return ()
    return (tracking,) if isinstance(tracking, Tracking) else tracking


class Kept:
    """The aggregates a follower committed last, of the kinds only it writes (one ticket's, written by
    the slice that owns the ticket): its next batches take them from here instead of reading and
    folding their events again (at a live rate a batch holds one event, so every event read them).

    A copy is kept only once committed, and forgotten whenever a batch fails: a batch done again must
    not see what the failed attempt did to it. A copy gone stale (another instance of the slice wrote
    meanwhile) fails its next commit on version, and the batch is done again without copies."""

    def __init__(self, kinds: tuple[type, ...] = (), size: int = 1000):
        self.kinds, self.size = kinds, size
        self._copies: dict[UUID, Aggregate] = {}

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._copies

    def take(self, aggregate_id: UUID) -> Aggregate | None:
        return self._copies.get(aggregate_id)

    def keep(self, aggregates: Iterable[Aggregate]) -> None:
        for aggregate in aggregates:
            if isinstance(aggregate, self.kinds):
                self._copies.pop(aggregate.id, None)  # to the end: the oldest go first
                self._copies[aggregate.id] = aggregate
        while len(self._copies) > self.size:
            del self._copies[next(iter(self._copies))]

    def forget(self) -> None:
        self._copies.clear()


class UnitOfWork:
    """Aggregates touched while processing one batch, so later events in the batch see
    earlier changes; their new events are committed together.

    `optimistic` skips the existence look-up for ids the batch has not seen: creating an
    aggregate that already exists then fails the whole commit with IntegrityError, and the
    batch is processed again with `optimistic=False`. Creation is the common case on a
    backlog and a look-up per event would halve throughput.
    """

    def __init__(self, app: ServiceApplication, *, optimistic: bool = True, kept: Kept | None = None):
        self._app = app
        self._optimistic = optimistic
        self._kept = kept or Kept()
        self._aggregates: dict[UUID, Aggregate] = {}
        self._absent: set[UUID] = set()  # looked up and not there: asked once per batch, not per event
        self._touched: dict[UUID, Aggregate] = {}  # since the last `collect`
        self._events: list[Any] = []
        self.correlations: dict[tuple[UUID, int], str] = {}

    def get(self, aggregate_id: UUID) -> Any | None:
        if aggregate_id not in self._aggregates:
            if aggregate_id in self._absent:
                return None
            try:
                found = self._kept.take(aggregate_id)
                self._aggregates[aggregate_id] = self._app.repository.get(aggregate_id) if found is None else found
            except AggregateNotFoundError:
                self._absent.add(aggregate_id)
                return None
        found = self._touched[aggregate_id] = self._aggregates[aggregate_id]
        return found

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._aggregates or aggregate_id in self._kept:
            return True
        return not self._optimistic and self.get(aggregate_id) is not None

    def add(self, aggregate: Aggregate) -> None:
        self._absent.discard(aggregate.id)
        self._aggregates[aggregate.id] = self._touched[aggregate.id] = aggregate

    def collect(self, correlation_id: str | None = None) -> None:
        """Take the events of the aggregates touched since the last time, caused under `correlation_id`
        (the upstream event's)."""
        self._take(self._touched.values(), correlation_id)
        self._touched = {}

    @property
    def aggregates(self) -> Iterable[Aggregate]:
        """Every aggregate the batch read or added."""
        return self._aggregates.values()

    def pending_events(self) -> list[Any]:
        self._take(self._aggregates.values(), None)
        return self._events

    def _take(self, aggregates: Any, correlation_id: str | None) -> None:
        for aggregate in aggregates:
            for e in aggregate.collect_events():
                self._events.append(e)
                if correlation_id:
                    self.correlations[e.originator_id, e.originator_version] = correlation_id


class PublishingEventStore(EventStore):
    """Puts the outbox rows of the events' public ones in the same commit as the events."""

    def __init__(self, mapper: Any, recorder: Any, outbox: Outbox):
        super().__init__(mapper, recorder)
        self.outbox = outbox

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list:
        return super().put(
            domain_events, outbox=self.outbox.rows(domain_events, kwargs.pop("correlations", None)), **kwargs
        )


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its per-event `isinstance` against a typing Protocol:
    on Python 3.11 that check re-reads the protocol's members each time (~30 µs an event, more than
    the event's own mutation; 5 % of notify's worker, py-spy)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class FoldingRepository(Repository):
    def get(self, aggregate_id: Any, *, projector_func: Any = fold, **kwargs: Any) -> Any:
        return super().get(aggregate_id, projector_func=projector_func, **kwargs)


class ServiceApplication(Application[UUID]):
    """An eventsourcing application whose recorder also keeps tracking positions and whose public
    events (those its `outbox` translates) go to its outbox table as they are recorded."""

    outbox: Outbox | None = None  # a service's own: which of its events are public, and how they look

    def construct_repository(self) -> Repository:
        """eventsourcing's own, as it configures it from the environment, folding with `fold`."""
        cache_maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return FoldingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(cache_maxsize) if cache_maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def construct_event_store(self) -> EventStore:
        if self.outbox is None:
            return super().construct_event_store()
        return PublishingEventStore(self.mapper, self.recorder, self.outbox)

    def to_stored(self, events: Sequence[Any]) -> tuple[list[StoredEvent], list[OutboxRow]]:
        """What recording `events` writes (for a caller that commits on its own, in groups)."""
        rows = self.outbox.rows(events) if self.outbox else []
        return [self.mapper.to_stored_event(e) for e in events], rows

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save, with the receipt of the request being answered if it carries an Idempotency-Key: both
        are committed or neither (shared/idempotency.py)."""
        receipts = idempotency.pending()
        recordings = super().save(*objs, *receipts, **kwargs)
        if receipts:
            idempotency.saved()
        return recordings

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
        return found if belongs(found, tenant, kind) else None

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
        return cached if belongs(cached, tenant, kind) else None

    def backfill_outbox(self, page_size: int = 1000) -> int:
        """Write the outbox rows of public events recorded before the outbox existed, once (an
        upgrade: `scrm db init`); returns how many. Rows already there are kept."""
        if self.outbox is None or self.position(_BACKFILLED):
            return 0
        topics, after, written = [get_topic(cls) for cls in self.outbox.translations], 0, 0
        while page := self.recorder.select_notifications(
            start=after, limit=page_size, topics=topics, inclusive_of_start=False
        ):
            rows = [(n.id, row) for n in page for row in self.outbox.rows([self.mapper.to_domain_event(n)])]
            self.recorder.insert_outbox(rows)
            written, after = written + len(rows), page[-1].id
        self.record([], Tracking(_BACKFILLED, max(after, 1)))
        return written

    def record(
        self, events: Iterable[Any], tracking: Positions = None, correlations: Correlations | None = None
    ) -> None:
        """Commit new events and the upstream positions in one transaction (with the correlation
        id each event was caused under, for the public ones)."""
        tracked = positions(tracking)
        one = tracked[0] if len(tracked) == 1 else tracked or None  # one as eventsourcing's own recorders take it
        self.events.put(list(events), tracking=one, correlations=correlations)


def belongs(aggregate: Aggregate, tenant: str, kind: type[Aggregate] | None) -> bool:
    return (kind is None or isinstance(aggregate, kind)) and getattr(aggregate, "tenant", None) == tenant


def open_store(service: str, env: dict[str, str]) -> ServiceApplication:
    """A bare application on `service`'s store, to read its outbox or keep positions there.

    The application's name picks the tables (`intake_events`, `intake_tracking` on
    PostgreSQL), so it must be the service's own."""
    named = type(f"{service.title()}Store", (ServiceApplication,), {"name": service})
    return named(env=env)
