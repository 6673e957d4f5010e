"""Embedded adapter: a follower pulls its leaders' notification logs straight from their stores."""

from __future__ import annotations

import time
from typing import Callable

from shared.outbox import Outbox
from shared.settings import Settings
from shared.transport import WHOLE, Batch, Slice


class EmbeddedSubscription:
    def __init__(self, leaders: list[Outbox], settings: Settings, part: Slice = WHOLE, page_size: int = 1000):
        self._readers = [o.reader(settings) for o in leaders]
        self._part = part
        self._page_size = page_size

    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        batches = []
        for reader in self._readers:
            stream = self._part.stream(reader.outbox.service)
            after = position(stream)
            last, envelopes = reader.read(after, self._page_size, self._part)
            if last > after:  # even with nothing for this slice: the position moves on
                batches.append(Batch(stream, last, envelopes))
        if not batches:
            time.sleep(timeout)
        return batches

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        streams = {self._part.stream(r.outbox.service): r for r in self._readers}
        return {s: r.behind(position(s)) for s, r in streams.items()}

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
