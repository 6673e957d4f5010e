"""Embedded adapter: a follower reads its leaders' outbox tables straight from their stores, and
waits for their commits' doorbells when it has read everything (shared/doorbell.py)."""

from __future__ import annotations

from collections.abc import Callable

from shared.contracts import upcast
from shared.doorbell import listen
from shared.persistence import outbox_reader
from shared.settings import Settings
from shared.slices import WHOLE, Slice
from shared.transport import Batch


class EmbeddedSubscription:
    def __init__(self, leaders: list[str], settings: Settings, slice_: Slice = WHOLE, page_size: int = 1000):
        self._readers = [outbox_reader(service, settings) for service in leaders]
        self._slice = slice_
        self._page_size = page_size
        self._doorbell = listen(
            [r.store for r in self._readers], settings.wake_on_commit, settings.wake_gap
        )  # before any read

    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        batches = []
        for reader in self._readers:
            stream = self._slice.stream(reader.service)
            envelopes = [upcast(e) for e in reader.read(position(stream), self._page_size, self._slice)]
            if envelopes:
                batches.append(Batch(stream, envelopes[-1].sequence, envelopes))
        if not batches:
            self._doorbell.wait(timeout)
        return batches

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        streams = {self._slice.stream(r.service): r for r in self._readers}
        return {s: r.behind(position(s), self._slice) for s, r in streams.items()}

    def close(self) -> None:
        self._doorbell.close()
        for reader in self._readers:
            reader.close()
