"""A service following its own log: its private events, read with its own classes.

Notify's sender, for one, works through the deliveries notify itself requested. The events
come as envelopes of the service's own translations (never published, so no contract's), and
the same follower loop records the results with the position.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping

from eventsourcing.utils import get_topic

from shared.envelope import Envelope, event_id
from shared.eventstore import ServiceApplication
from shared.outbox import Translation
from shared.slices import WHOLE, Slice
from shared.transport import Batch


class OwnLogSubscription:
    def __init__(self, app: ServiceApplication, translations: Mapping[type, Translation], slice_: Slice = WHOLE,
                 page_size: int = 1000):
        self._app = app
        self._translations = translations
        self._topics = [get_topic(cls) for cls in translations]
        self._slice = slice_
        self._page_size = page_size
        self.stream = slice_.stream(app.name)  # its own name: a follower of others names them

    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        after = position(self.stream)
        last, notifications = self._read(after)
        if last == after:
            time.sleep(timeout)
            return []
        to_event = self._app.mapper.to_domain_event
        envelopes = [self._envelope(to_event(n), n.id) for n in notifications]
        return [Batch(self.stream, last, envelopes)]  # even with nothing for this slice: the position moves on

    def _envelope(self, event, position: int) -> Envelope:
        type_, translate = self._translations[type(event)]
        source = f"scrm/{self._app.name}"
        return Envelope(id=event_id(source, event.originator_id, event.originator_version), source=source,
                        type=type_, subject=getattr(event, "ticket_id", None) or event.originator_id,
                        time=event.timestamp, tenant=event.tenant, data=translate(event), sequence=position)

    def _read(self, after: int) -> tuple[int, list]:
        recorder = self._app.recorder
        if hasattr(recorder, "select_window"):  # PostgreSQL: the next rows in order, state of ours only
            return recorder.select_window(after, self._page_size * self._slice.count, self._topics, self._slice)
        found = recorder.select_notifications(start=after, limit=self._page_size, topics=self._topics,
                                              inclusive_of_start=False)
        last = found[-1].id if found else after
        return last, [n for n in found if self._slice.takes(n.originator_id)]

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        after = position(self.stream)
        pending = self._app.recorder.select_notifications(start=after, limit=1, topics=self._topics,
                                                          inclusive_of_start=False)
        return {self.stream: max(0, (self._app.recorder.max_notification_id() or 0) - after) if pending else 0}

    def close(self) -> None:
        pass  # the application is the follower's own
