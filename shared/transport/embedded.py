"""Embedded adapter: a follower pulls its leaders' notification logs straight from their stores."""

from __future__ import annotations

import threading
from typing import Callable

from shared.outbox import Outbox
from shared.settings import Settings
from shared.transport import Batch


class EmbeddedSubscription:
    def __init__(self, leaders: list[Outbox], settings: Settings, page_size: int = 1000,
                 wakeup: threading.Event | None = None):
        self._readers = [o.reader(settings) for o in leaders]
        self._page_size = page_size
        self._wakeup = wakeup or threading.Event()

    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        batches = []
        for reader in self._readers:
            stream = reader.outbox.service
            last, envelopes = reader.read(position(stream), self._page_size)
            if envelopes:
                batches.append(Batch(stream, last, envelopes))
        if not batches:
            self._wakeup.wait(timeout)
            self._wakeup.clear()
        return batches

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
