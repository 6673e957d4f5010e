"""A slice of a follower's work: one of several processes sharing it, by ticket."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

MAX_SLICES = 256  # a slice is chosen by one byte of the id


def slot(id_: UUID) -> int:
    """The id's last byte: random in uuid4 and uuid5 ids, and cheap to test in SQL too."""
    return id_.bytes[15]


@dataclass(frozen=True)
class Slice:
    """One of `count` processes sharing a follower's work: each takes the tickets (the envelopes'
    subjects, or the aggregates, for a service's own log) whose id falls to it, so every ticket's
    events stay in order in one process. Each slice keeps its own positions; a new `count` starts new
    positions (and reads the logs again from the start, which changes nothing but takes time).
    With Kafka, partitions already share the work: more processes simply join the group."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count <= MAX_SLICES:
            raise ValueError(f"slice {self.index}/{self.count}: want 0 <= index < count <= {MAX_SLICES}")

    @classmethod
    def parse(cls, text: str) -> Slice:
        index, _, count = text.partition("/")
        return cls(int(index), int(count))

    def takes(self, id_: UUID) -> bool:
        return slot(id_) % self.count == self.index

    def stream(self, name: str) -> str:
        return name if self.count == 1 else f"{name}#{self.index}/{self.count}"


WHOLE = Slice()  # one process does all the work
