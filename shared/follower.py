"""The consumer loop every worker runs: batches in, one transaction out per batch.

The policy only collects new events into a unit of work; this loop commits them with the
batch's upstream position. A crash before the commit loses nothing (the batch is read
again), a crash after it doubles nothing (the position says it is done).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from uuid import UUID

import structlog

from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import get_topic

from shared import correlation
from shared.envelope import Envelope
from shared.eventstore import IntegrityError, Kept, ServiceApplication, Tracking, UnitOfWork
from shared.metrics import BATCH_SECONDS, EVENTS_PARKED, EVENTS_PROCESSED, FOLLOWER_BACKLOG
from shared.parking import ParkedEvent, ids_of
from shared.transport import Batch, Subscription

Policy = Callable[[Envelope, UnitOfWork], None]
log = structlog.get_logger()
_std_log = logging.getLogger(__name__)  # what decides the level (shared/logs.py)

CONFLICT_RETRIES = 5
STORE_FAILURES = (PersistenceError, OSError)  # the database, not the event


def combined(*policies: Policy) -> Policy:
    """One policy of several, each minding its own event types."""

    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        for each in policies:
            each(envelope, uow)

    return policy


class Follower:
    """`keeps`: the kinds of aggregate only this follower writes, kept between batches (shared.eventstore.Kept)."""

    def __init__(
        self,
        name: str,
        app: ServiceApplication,
        policy: Policy,
        subscription: Subscription,
        keeps: tuple[type, ...] = (),
    ):
        self.name = name
        self.app = app
        self.policy = policy
        self.subscription = subscription
        self._kept = Kept(keeps)
        self._positions: dict[str, int] = {}  # per stream, as this follower last committed it
        EVENTS_PROCESSED.labels(name)  # the series exists (at 0) before the first event

    def run(self, stop: threading.Event, poll_timeout: float = 0.2, measure_every: float = 5.0) -> None:
        log.info("follower.started", follower=self.name)
        measured = 0.0
        while not stop.is_set():
            self.run_once(poll_timeout)
            if time.monotonic() - measured >= measure_every:  # a query per leader: not on every poll
                self.measure_backlog()
                measured = time.monotonic()
        self.subscription.close()
        log.info("follower.stopped", follower=self.name)

    def run_once(self, poll_timeout: float = 0.0) -> int:
        """Process whatever is pending; returns how many envelopes were processed."""
        batches = self.subscription.poll(self.position, poll_timeout)
        self.process(*batches)
        return sum(len(b.envelopes) for b in batches)

    def measure_backlog(self) -> dict[str, int]:
        backlog = self.subscription.backlog(self.position)
        for stream, behind in backlog.items():
            FOLLOWER_BACKLOG.labels(self.name, stream).set(behind)
        return backlog

    def position(self, stream: str) -> int:
        """Where this follower is in `stream`: read from the store once, then as it committed it. Another
        instance moving it on meanwhile is found out by the next commit's conflict, which reads it again."""
        if stream not in self._positions:
            self._positions[stream] = self.app.position(stream)
        return self._positions[stream]

    def process(self, *batches: Batch) -> None:
        """The batches of one poll in one transaction with every stream's position: a topic's partitions
        each give a batch, and at a live rate each holds an event or two; a commit (and the tenant-wide
        reads a policy does once per unit of work) per batch made round trips, not CPU, the limit."""
        started = time.perf_counter()
        for attempt in range(CONFLICT_RETRIES + 1):
            # A stream another instance got to first is left out: it did those already.
            fresh = [b for b in batches if self.position(b.stream) < b.position]
            if not fresh:
                return
            # First try without existence look-ups; a conflict means something already
            # existed or a concurrent writer moved an aggregate on: redo with look-ups.
            try:
                uow, parked = self._apply([e for b in fresh for e in b.envelopes], optimistic=attempt == 0)
                tracking = [Tracking(b.stream, b.position) for b in fresh]
                self.app.record(uow.pending_events(), tracking, uow.correlations)
            except IntegrityError:
                log.info("follower.conflict", follower=self.name, streams=[b.stream for b in fresh], attempt=attempt)
                self._forget()
                continue
            except BaseException:
                self._forget()  # not committed: the copies may hold changes the store does not
                raise
            self._positions.update((b.stream, b.position) for b in fresh)
            self._kept.keep(uow.aggregates)
            EVENTS_PARKED.labels(self.name).inc(parked)
            break
        else:
            raise RuntimeError(f"{self.name}: batches from {[b.stream for b in batches]} kept conflicting")
        EVENTS_PROCESSED.labels(self.name).inc(sum(len(b.envelopes) for b in fresh))
        BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - started)

    def _apply(self, envelopes: list[Envelope], optimistic: bool) -> tuple[UnitOfWork, int]:
        """The envelopes through the policy. An envelope the policy fails on is parked and the
        rest done again without it: what it half did is thrown away with that attempt."""
        parked: dict[tuple[str, UUID], ParkedEvent] = {}  # by source too: two leaders' first events share an id
        debugging = _std_log.isEnabledFor(logging.DEBUG)  # asked once per batch: a line per event is dear
        while True:
            uow = UnitOfWork(self.app, optimistic=optimistic, kept=self._kept)
            try:
                for envelope in envelopes:
                    if (envelope.source, envelope.id) not in parked:
                        failing = envelope
                        correlation.follow(envelope)  # its id, tenant and ticket on every line meanwhile
                        if debugging:
                            log.debug(
                                "follower.event",
                                follower=self.name,
                                type=envelope.type,
                                source=envelope.source,
                                envelope=str(envelope.id),
                            )
                        self.policy(envelope, uow)
                        uow.collect(envelope.correlation_id)  # what it caused is published under its id
            except STORE_FAILURES:
                correlation.follow(None)
                raise  # not the event's fault: stop, and read the batch again after a restart
            except Exception as error:  # a bug for this event: park it, go on
                self._forget()  # the attempt thrown away changed kept copies too
                log.exception("follower.parked", follower=self.name, envelope=str(failing.id), type=failing.type)
                parked[failing.source, failing.id] = ParkedEvent(
                    follower=self.name, envelope=failing.to_dict(), error=repr(error)
                )
                continue
            correlation.follow(None)  # the batch's later lines are about no one event
            for p in parked.values():
                # Once, even if it comes again (a duplicate fails the commit; the old id is looked up: rare).
                now, before = ids_of(self.name, p.arrived)
                if not uow.exists(now) and uow.get(before) is None:
                    uow.add(p)
            return uow, len(parked)

    def _forget(self) -> None:
        self._kept.forget()
        self._positions.clear()

    def parked(self) -> list[ParkedEvent]:
        """The events this follower parked and has not processed since, oldest first."""
        ids, after = [], 0
        while page := self.app.recorder.select_notifications(
            start=after, limit=1000, topics=[get_topic(ParkedEvent.Parked)], inclusive_of_start=False
        ):
            ids += [n.originator_id for n in page]
            after = page[-1].id
        found = [self.app.repository.get(id_) for id_ in ids]
        return [p for p in found if p.follower == self.name and not p.resolved]

    def retry(self, parked: ParkedEvent) -> None:
        """Process a parked event now (once the fix is deployed): what it causes and its
        resolution are recorded in one transaction. Raises, and changes nothing, if it fails again."""
        uow = UnitOfWork(self.app, optimistic=False)
        self.policy(parked.arrived, uow)
        uow.collect(parked.arrived.correlation_id)
        parked.resolve(by="retry")
        uow.add(parked)
        self.app.record(uow.pending_events(), correlations=uow.correlations)
