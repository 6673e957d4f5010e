"""A closed-loop HTTP load generator: N connections, each sending the next request when the
last one is answered, for a fixed time. Prints nothing; returns counts and latencies."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Callable

import aiohttp


@dataclass
class Result:
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s < 300)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")

    def line(self, name: str) -> str:
        return (f"{name:<28} {self.rate:8,.0f} req/s   p50 {self.percentile(50) * 1000:6.1f} ms   "
                f"p99 {self.percentile(99) * 1000:6.1f} ms   statuses {dict(sorted(self.statuses.items()))}")


async def _run(url: str, body: Callable[[int], dict], connections: int, seconds: float, warmup: float) -> Result:
    counter = itertools.count()
    result = Result(seconds)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        measuring_from, stop_at = started + warmup, started + warmup + seconds

        async def client():
            while (now := time.perf_counter()) < stop_at:
                async with session.post(url, json=body(next(counter))) as response:
                    await response.read()
                done = time.perf_counter()
                if now >= measuring_from:
                    result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
                    result.latencies.append(done - now)

        await asyncio.gather(*(client() for _ in range(connections)))
    return result


def run(url: str, body: Callable[[int], dict], connections: int = 32, seconds: float = 10,
        warmup: float = 2) -> Result:
    return asyncio.run(_run(url, body, connections, seconds, warmup))
