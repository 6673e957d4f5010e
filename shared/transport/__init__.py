"""The transport port: how a follower receives its leaders' public events.

Two adapters implement it: `embedded` (read each leader's outbox table straight from its
store) and `kafka` (a relay publishes each leader's outbox to Kafka; followers consume).
Either way a follower gets `Batch`es: envelopes from one stream in order, with the
position to record as tracking once they are processed. Leaders are named by service:
a follower never needs a leader's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from collections.abc import Callable

from shared.envelope import Envelope


@dataclass
class Batch:
    stream: str  # tracking name: the leader ("intake") or a topic partition ("scrm.ticket#3")
    position: int  # last position covered by this batch
    envelopes: list[Envelope] = field(default_factory=list)


class Subscription(Protocol):
    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        """Batches after the recorded position of each stream; [] when there is nothing new."""

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        """How many events each stream holds after the recorded position (for the lag metric)."""

    def close(self) -> None: ...
