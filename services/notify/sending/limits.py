"""Per-provider rate limits: a token bucket per tenant and channel, in this sender process (several
sender processes each get the configured rate). A delivery over the limit is not sent this round and
stays due; nothing waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping


class RateLimits:
    def __init__(self, rates: Mapping[str, float], clock: Callable[[], float] = time.monotonic):
        self.rates = rates
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, at)

    def take(self, tenant: str, channel: str) -> bool:
        rate = self.rates.get(channel, 0.0)
        if rate <= 0:
            return True  # unlimited
        now = self.clock()
        tokens = self._tokens(tenant, channel, now)
        if tokens < 1:
            self._buckets[(tenant, channel)] = (tokens, now)
            return False
        self._buckets[(tenant, channel)] = (tokens - 1, now)
        return True

    def wait(self) -> float | None:
        """How long until a bucket that ran dry has a token again (for the sender's pause); None while none
        is dry. Buckets with tokens left hold nothing back: counting them had an idle sender poll at the
        rate (every 10 µs at 100,000/s)."""
        now = self.clock()
        dry = [
            (1 - tokens) / self.rates[channel]
            for tenant, channel in self._buckets
            if (tokens := self._tokens(tenant, channel, now)) < 1
        ]
        return min(dry, default=None)

    def _tokens(self, tenant: str, channel: str, now: float) -> float:
        rate = self.rates[channel]
        burst = max(1.0, rate)
        tokens, at = self._buckets.get((tenant, channel), (burst, now))
        return min(burst, tokens + (now - at) * rate)
