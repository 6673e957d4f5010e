"""A service reading its own log: its private events, with its own classes (notify's sender works
through the deliveries notify itself recorded)."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterable, Mapping

from eventsourcing.utils import get_topic

from shared.doorbell import Doorbell
from shared.envelope import Envelope, event_id
from shared.eventstore import ServiceApplication
from shared.outbox import Translation
from shared.slices import WHOLE, Slice
from shared.transport import Batch

OwnEvents = Callable[[int, int], tuple[int, list[Any]]]  # (after, limit) -> (last position read, events)


def own_events(app: ServiceApplication, classes: Iterable[type], slice_: Slice = WHOLE) -> OwnEvents:
    """Reads `app`'s events of `classes` (of the slice's aggregates) in the next positions of its log after
    `after`, in order: the last position read, which moves past the other events too. A reader asking the
    store for its topics only would stay where its last event was, and every read would scan the rest of
    the log again: as long as none of those events came, ever longer (bench/README.md, the soak)."""
    topics = [get_topic(cls) for cls in classes]

    def read(after: int, limit: int) -> tuple[int, list[Any]]:
        last, notifications = app.recorder.select_window(after, limit * slice_.count, topics, slice_)
        return last, [app.mapper.to_domain_event(n) for n in notifications]

    return read


class OwnLogSubscription:
    """A follower of its own service's private events (settlement's stock keeper follows the parts its
    ledgers record), as envelopes of the service's own translations (never published: no contract's).
    Its position is kept under the service's own name. Having read everything, it waits for the
    `doorbell` of its service's commits (shared/doorbell.py), else sleeps."""

    def __init__(
        self,
        app: ServiceApplication,
        translations: Mapping[type, Translation],
        slice_: Slice = WHOLE,
        page_size: int = 1000,
        doorbell: Doorbell | None = None,
    ):
        self._app = app
        self._doorbell = doorbell or Doorbell()
        self._translations = translations
        self._read = own_events(app, translations, slice_)
        self._page_size = page_size
        self.stream = slice_.stream(app.name)

    def poll(self, position: Callable[[str], int], timeout: float) -> list[Batch]:
        after = position(self.stream)
        last, events = self._read(after, self._page_size)
        if last == after:
            self._doorbell.wait(timeout)
            return []
        return [Batch(self.stream, last, [self._envelope(e) for e in events])]  # the position moves on regardless

    def _envelope(self, event: Any) -> Envelope:
        type_, translate = self._translations[type(event)]
        source = f"scrm/{self._app.name}"
        return Envelope(
            id=event_id(source, event.originator_id, event.originator_version),
            source=source,
            type=type_,
            subject=getattr(event, "ticket_id", None) or event.originator_id,
            time=event.timestamp,
            tenant=event.tenant,
            data=translate(event),
        )

    def backlog(self, position: Callable[[str], int]) -> dict[str, int]:
        after = position(self.stream)
        last, _ = self._read(after, 1)
        return {self.stream: max(0, (self._app.recorder.max_notification_id() or 0) - after) if last > after else 0}

    def close(self) -> None:
        self._doorbell.close()  # the application is the follower's own
