"""A service's notification log is its outbox: this says which of its events are public
and how each becomes an envelope. Relays and embedded followers both read it this way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from eventsourcing.utils import get_topic

from shared.contracts import contract
from shared.envelope import Envelope, event_id
from shared.eventstore import Tracking, open_store
from shared.persistence import store_env
from shared.settings import Settings
from shared.transport import WHOLE, Slice

Translation = Callable[[Any], tuple[str, dict[str, Any]]]  # domain event -> (type, data)


@dataclass(frozen=True)
class Outbox:
    service: str
    translations: Mapping[type, Translation]

    @property
    def topics(self) -> list[str]:
        """The stored-event topics of the public events, to select them from the log."""
        return [get_topic(cls) for cls in self.translations]

    def envelope(self, event: Any, sequence: int) -> Envelope:
        type_, data = self.translations[type(event)](event)
        return Envelope(
            id=event_id(event.originator_id, event.originator_version),
            source=f"scrm/{self.service}",
            type=type_,
            subject=getattr(event, "ticket_id", None) or event.originator_id,  # always the ticket
            time=event.timestamp,
            tenant=event.tenant,
            data=data,
            sequence=sequence,
            schema_version=contract(type_).version,  # translations write the current version
        )

    def reader(self, settings: Settings) -> OutboxReader:
        return OutboxReader(self, settings)


class OutboxReader:
    """Reads a service's public events straight from its store, in notification order."""

    def __init__(self, outbox: Outbox, settings: Settings):
        self.outbox = outbox
        self._app = open_store(outbox.service, store_env(outbox.service, settings))

    def read(self, after: int, limit: int = 1000, part: Slice = WHOLE) -> tuple[int, list[Envelope]]:
        """Envelopes after position `after`, of the aggregates in slice `part` only, and the
        position of the last event read."""
        recorder = self._app.recorder
        if hasattr(recorder, "select_window"):  # PostgreSQL filters for us
            last, notifications = recorder.select_window(after, limit * part.count, self.outbox.topics, part)
        else:
            notifications = recorder.select_notifications(
                start=after, limit=limit, topics=self.outbox.topics, inclusive_of_start=False)
            last = notifications[-1].id if notifications else after
            notifications = [n for n in notifications if part.takes(n.originator_id)]
        to_event = self._app.mapper.to_domain_event
        return last, [self.outbox.envelope(to_event(n), n.id) for n in notifications]

    def last_position(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def behind(self, after: int) -> int:
        """Log positions after `after`: an upper bound on the public events not read yet (the
        log holds private events too), and 0 once none is left."""
        pending = self._app.recorder.select_notifications(
            start=after, limit=1, topics=self.outbox.topics, inclusive_of_start=False)
        return max(0, self.last_position() - after) if pending else 0

    def relayed(self, relay: str) -> int:
        """How far `relay` has published this outbox (kept in the service's own store)."""
        return self._app.position(relay)

    def mark_relayed(self, relay: str, position: int) -> None:
        self._app.record([], Tracking(relay, position))

    def close(self) -> None:
        self._app.close()
