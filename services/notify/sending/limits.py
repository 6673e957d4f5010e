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
        now, burst = self.clock(), max(1.0, rate)
        tokens, at = self._buckets.get((tenant, channel), (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[(tenant, channel)] = (tokens, now)
            return False
        self._buckets[(tenant, channel)] = (tokens - 1, now)
        return True

    def wait(self) -> float:
        """How long until any bucket has a token again (for the sender's pause)."""
        return min((1 / self.rates[c] for _, c in self._buckets if self.rates.get(c, 0) > 0), default=0.0)
