"""The consumer loop every worker runs: batches in, one transaction out per batch.

The policy only collects new events into a unit of work; this loop commits them with the
batch's upstream position. A crash before the commit loses nothing (the batch is read
again), a crash after it doubles nothing (the position says it is done).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import structlog

from shared.envelope import Envelope
from shared.eventstore import IntegrityError, ServiceApplication, Tracking, UnitOfWork
from shared.metrics import EVENTS_PROCESSED, BATCH_SECONDS
from shared.transport import Batch, Subscription

Policy = Callable[[Envelope, UnitOfWork], None]
log = structlog.get_logger()

CONFLICT_RETRIES = 5


class Follower:
    def __init__(self, name: str, app: ServiceApplication, policy: Policy, subscription: Subscription):
        self.name = name
        self.app = app
        self.policy = policy
        self.subscription = subscription
        EVENTS_PROCESSED.labels(name)  # the series exists (at 0) before the first event

    def run(self, stop: threading.Event, poll_timeout: float = 0.2) -> None:
        log.info("follower.started", follower=self.name)
        while not stop.is_set():
            self.run_once(poll_timeout)
        self.subscription.close()
        log.info("follower.stopped", follower=self.name)

    def run_once(self, poll_timeout: float = 0.0) -> int:
        """Process whatever is pending; returns how many envelopes were processed."""
        done = 0
        for batch in self.subscription.poll(self.app.position, poll_timeout):
            self.process(batch)
            done += len(batch.envelopes)
        return done

    def process(self, batch: Batch) -> None:
        started = time.perf_counter()
        for attempt in range(CONFLICT_RETRIES + 1):
            if self.app.position(batch.stream) >= batch.position:
                return  # another instance got there first
            # First try without existence look-ups; a conflict means something already
            # existed or a concurrent writer moved an aggregate on: redo with look-ups.
            uow = UnitOfWork(self.app, optimistic=attempt == 0)
            for envelope in batch.envelopes:
                self.policy(envelope, uow)
            try:
                self.app.record(uow.pending_events(), Tracking(batch.stream, batch.position))
                break
            except IntegrityError:
                log.info("follower.conflict", follower=self.name, stream=batch.stream, attempt=attempt)
        else:
            raise RuntimeError(f"{self.name}: batch from {batch.stream} kept conflicting")
        EVENTS_PROCESSED.labels(self.name).inc(len(batch.envelopes))
        BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - started)
