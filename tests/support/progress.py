"""Waiting on a busy machine: keep waiting while the platform still makes progress.

A wall-clock limit guesses how fast the machine is; on a loaded one a test then fails with work
still moving. `Progress` samples a measure of the work done (how far the stores' logs and the
positions of their workers and relays have got) and a wait fails only once nothing has moved for
a long stretch: an event that is lost stops everything that follows from it, slowness does not.
"""

from __future__ import annotations

import threading
import time
from typing import TypeVar
from collections.abc import Callable

import psycopg

T = TypeVar("T")

STALL = 90.0  # seconds without any progress before a wait gives up


class Progress:
    def __init__(
        self,
        measure: Callable[[], int],
        stall: float = STALL,
        every: float = 0.5,
        describe: Callable[[], str] = lambda: "",
    ):
        """`describe` tells, when a wait gives up, where the work stood."""
        self._measure = measure
        self._describe = describe
        self._stall = stall
        self._every = every
        self.value = measure()  # as last sampled
        self._moved_at = time.monotonic()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Progress:
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            try:
                now = self._measure()
            except psycopg.OperationalError:
                continue  # the store is paused or busy: that is no progress
            if now != self.value:
                self.value, self._moved_at = now, time.monotonic()

    def still_for(self) -> float:
        """Seconds since the measure last changed."""
        return time.monotonic() - self._moved_at

    def wait_for(self, predicate: Callable[[], T], message: str, interval: float = 0.2) -> T:
        """`predicate()`'s first truthy result, waiting as long as the measure keeps moving."""
        while True:
            result = predicate()
            if result:
                return result
            if self.still_for() > self._stall:
                raise TimeoutError(f"{message} (nothing moved for {self._stall:g} s) {self._describe()}".rstrip())
            time.sleep(interval)

    def wait_until_quiet(self, quiet: float) -> None:
        """Until the measure has not moved for `quiet` seconds: whatever was still on its way has
        arrived (a duplicate would have shown by then)."""
        self.wait_for(lambda: self.still_for() >= quiet, "the platform never went quiet", interval=0.1)


def where_work_stands(database_url: str, services: tuple[str, ...], relay: str = "kafka-relay") -> Callable[[], str]:
    """Each log's last notification id, how far its relay has published it and the positions its
    worker has recorded (per upstream stream): a relay behind its log while nothing moves is
    stuck; a worker whose positions stop short of what was published points at the consumer."""

    def describe() -> str:
        parts = []
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            for s in services:
                end = conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {s}.{s}_events").fetchone()[0]
                tracked = dict(
                    conn.execute(
                        f"SELECT application_name, notification_id FROM {s}.{s}_tracking ORDER BY application_name"
                    ).fetchall()
                )
                relayed = tracked.pop(relay, None)
                parts.append(f"{s}: log at {end}, relayed to {relayed}, consumed {tracked}")
        return "; ".join(parts)

    return describe


def work_done(database_url: str, services: tuple[str, ...]) -> Callable[[], int]:
    """How far the services have got, in one number that grows with any of their work: their logs'
    last notification ids and every position their workers and relays have recorded."""
    query = " + ".join(
        f"(SELECT coalesce(max(notification_id), 0) FROM {s}.{s}_events)"
        f" + (SELECT coalesce(sum(notification_id), 0) FROM {s}.{s}_tracking)"
        for s in services
    )

    def measure() -> int:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            return conn.execute(f"SELECT {query}").fetchone()[0]

    return measure
