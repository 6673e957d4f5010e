"""Per-client token buckets: H5 form submissions and uploads, sign-in attempts.

In-process: each web process (gunicorn worker) keeps its own buckets, so N processes let a
client through up to N times the rate. That is enough to stop a script hammering one form from
one address; a shared limit belongs in front of the service (the reverse proxy).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable

from shared.errors import DomainError


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"

    def __init__(self, retry_after: float):
        super().__init__(
            f"too many requests from this client; try again in {math.ceil(retry_after)} s",
            retry_after=math.ceil(retry_after),
        )
        self.retry_after = math.ceil(retry_after)


class RateLimiter:
    """`burst` requests at once, refilled at `per_minute` a minute, per key (client, form)."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> None:
        """Spend a token for `key`, or raise TooManyRequests saying when the next one comes."""
        with self._lock:
            now = self.clock()
            tokens, when = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise TooManyRequests((1 - tokens) / self.rate)
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1, now)

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: a client seen again starts full anyway."""
        for key, (tokens, when) in list(self._buckets.items()):
            if tokens + (now - when) * self.rate >= self.burst:
                del self._buckets[key]
