"""The transport port: how a follower receives its leaders' public events.

Two adapters implement it: `embedded` (pull the leader's notification log straight from
its store) and `kafka` (a relay publishes each leader's log to Kafka; followers consume).
Either way a follower gets `Batch`es: envelopes from one stream in order, with the
position to record as tracking once they are processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from shared.envelope import Envelope


@dataclass
class Batch:
    stream: str  # tracking name: the leader ("intake") or a topic partition ("scrm.ticket#3")
    position: int  # last position covered by this batch
    envelopes: list[Envelope] = field(default_factory=list)


class Subscription(Protocol):
    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        """Batches after the recorded position of each stream; [] when there is nothing new."""

    def close(self) -> None: ...


def subscribe(follower: str, leaders: list, settings) -> Subscription:
    """The subscription for `follower` to its leaders' outboxes, by the configured transport."""
    if settings.transport == "kafka":
        from shared.transport.kafka import KafkaSubscription

        return KafkaSubscription(follower, leaders, settings)
    from shared.transport.embedded import EmbeddedSubscription

    return EmbeddedSubscription(leaders, settings)
