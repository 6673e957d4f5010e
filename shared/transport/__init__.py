"""The transport port: how a follower receives its leaders' public events.

Two adapters implement it: `embedded` (pull the leader's notification log straight from
its store) and `kafka` (a relay publishes each leader's log to Kafka; followers consume).
Either way a follower gets `Batch`es: envelopes from one stream in order, with the
position to record as tracking once they are processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol
from uuid import UUID

from shared.envelope import Envelope


@dataclass(frozen=True)
class Slice:
    """One of `count` processes sharing a follower's work: each takes the aggregates whose
    id falls to it, so every aggregate's events stay in order in one process. Each slice
    keeps its own positions; a new `count` starts new positions (and, with the embedded
    transport, reads the logs again from the start, which changes nothing but takes time).
    With Kafka, partitions already share the work: more processes simply join the group."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count <= 256:
            raise ValueError(f"slice {self.index}/{self.count}: want 0 <= index < count <= 256")

    @classmethod
    def parse(cls, text: str) -> Slice:
        index, _, count = text.partition("/")
        return cls(int(index), int(count))

    def takes(self, aggregate_id: UUID) -> bool:
        # The id's last byte: random in uuid4 and uuid5 ids, and cheap to test in SQL too.
        return aggregate_id.bytes[15] % self.count == self.index

    def stream(self, name: str) -> str:
        return name if self.count == 1 else f"{name}#{self.index}/{self.count}"


WHOLE = Slice()  # one process does all the work


@dataclass
class Batch:
    stream: str  # tracking name: the leader ("intake") or a topic partition ("scrm.ticket#3")
    position: int  # last position covered by this batch
    envelopes: list[Envelope] = field(default_factory=list)


class Subscription(Protocol):
    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        """Batches after the recorded position of each stream; [] when there is nothing new."""

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        """How far behind the recorded position each stream is (for the lag metric)."""

    def close(self) -> None: ...


def subscribe(follower: str, leaders: list, settings, part: Slice = WHOLE) -> Subscription:
    """The subscription for `follower` to its leaders' outboxes, by the configured transport."""
    if settings.transport == "kafka":
        from shared.transport.kafka import KafkaSubscription

        return KafkaSubscription(follower, leaders, settings)
    from shared.transport.embedded import EmbeddedSubscription

    return EmbeddedSubscription(leaders, settings, part)
