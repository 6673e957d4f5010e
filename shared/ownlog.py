"""A service reading its own log: its private events, with its own classes (notify's sender works
through the deliveries notify itself recorded)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from eventsourcing.utils import get_topic

from shared.eventstore import ServiceApplication
from shared.slices import WHOLE

OwnEvents = Callable[[int, int], tuple[int, list[Any]]]  # (after, limit) -> (last position read, events)


def own_events(app: ServiceApplication, classes: Iterable[type]) -> OwnEvents:
    """Reads `app`'s events of `classes` after a position, in order."""
    topics = [get_topic(cls) for cls in classes]

    def read(after: int, limit: int) -> tuple[int, list[Any]]:
        recorder = app.recorder
        if hasattr(recorder, "select_window"):  # PostgreSQL: the next rows in order, the state of ours only
            last, notifications = recorder.select_window(after, limit, topics, WHOLE)
        else:
            notifications = recorder.select_notifications(start=after, limit=limit, topics=topics,
                                                          inclusive_of_start=False)
            last = notifications[-1].id if notifications else after
        return last, [app.mapper.to_domain_event(n) for n in notifications]
    return read
