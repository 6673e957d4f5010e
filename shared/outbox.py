"""The transactional outbox: a service's public events, as envelopes, in its own store.

A service says which of its domain events are public and how each looks (an `Outbox` of
translations, in its `outbox.py`). Whenever it records events, the envelopes of the public
ones are written to its outbox table in the same transaction, at the position the event
takes in its log. Followers (embedded) and the Kafka relay read that table and nothing else
of the leader's: no follower ever needs a leader's domain classes, and a log of private
events never holds up a public one behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterable, Mapping
from uuid import UUID

import orjson

from shared import correlation
from shared.contracts import contract
from shared.envelope import Envelope, context, event_id
from shared.slices import WHOLE, Slice, slot

Translation = tuple[str, Callable[[Any], dict[str, Any]]]  # the contract's type, and domain event -> data
Correlations = Mapping[tuple[UUID, int], str]  # (aggregate id, version) -> correlation id


@dataclass(frozen=True)
class OutboxRow:
    """A public event as its service writes it: the envelope waits for its position (the event's
    notification id, known only at commit) to become its `sequence`."""

    originator_id: UUID
    originator_version: int
    slot: int  # the subject's slot: followers sharing the work take theirs
    envelope: bytes  # the structured CloudEvent as JSON, without `sequence`


@dataclass(frozen=True)
class Outbox:
    service: str
    translations: Mapping[type, Translation]

    @property
    def source(self) -> str:
        return f"scrm/{self.service}"

    @property
    def types(self) -> set[str]:
        """The contracts this service publishes."""
        return {type_ for type_, _ in self.translations.values()}

    def envelope(self, event: Any, correlation_id: str | None = None) -> Envelope:
        return Envelope.from_dict(self.structured(event, correlation_id))

    def structured(self, event: Any, correlation_id: str | None = None) -> dict[str, Any]:
        """The public event's envelope in structured form, without `sequence`: what its outbox row holds.
        Built straight from the domain event (no Envelope on the way): it runs for every public event."""
        type_, translate = self.translations[type(event)]
        found: dict[str, Any] = context(
            str(event_id(self.source, event.originator_id, event.originator_version)),
            self.source,
            type_,
            str(subject_of(event)),
            event.timestamp.isoformat(),
            event.tenant,
            contract(type_).version,  # translations write the current version
            correlation_id,
        )
        found["data"] = translate(event)
        return found

    def rows(self, events: Iterable[Any], correlations: Correlations | None = None) -> list[OutboxRow]:
        """The outbox rows of `events`' public ones. Each carries the correlation id it was caused
        under: from `correlations`, else the current one (a request's)."""
        rows, current = [], correlation.current()
        for event in events:
            if type(event) in self.translations and event.tenant:  # an event of no tenant's is nobody's news
                key = (event.originator_id, event.originator_version)
                body = self.structured(event, correlations.get(key, current) if correlations else current)
                rows.append(
                    OutboxRow(
                        event.originator_id, event.originator_version, slot(subject_of(event)), orjson.dumps(body)
                    )
                )
        return rows


def subject_of(event: Any) -> UUID:
    """What a public event is about: always the ticket, for the events of a ticket's."""
    return getattr(event, "ticket_id", None) or event.originator_id


def read_envelope(position: int, stored: bytes) -> Envelope:
    """An outbox row's envelope, with its position as its sequence."""
    raw = orjson.loads(stored)
    raw["sequence"] = position
    return Envelope.from_dict(raw)


class OutboxReader:
    """Reads one service's outbox table through a bare store of that service (see
    `shared.eventstore.open_store`): SQL only, none of its classes."""

    def __init__(self, service: str, store: Any):
        self.service = service
        self.store = store

    def read(self, after: int, limit: int = 1000, slice_: Slice = WHOLE, upto: int | None = None) -> list[Envelope]:
        """The next envelopes after position `after` (up to `upto`, of the slice's tickets), in order."""
        rows = self.store.recorder.select_outbox(after, limit, slice_, upto)
        return [read_envelope(position, stored) for position, stored in rows]

    def behind(self, after: int, slice_: Slice = WHOLE) -> int:
        """How many public events (of the slice's tickets) are after `after`."""
        return self.store.recorder.count_outbox(after, slice_)

    def last_position(self) -> int:
        return self.store.recorder.max_outbox_position()

    def close(self) -> None:
        self.store.close()
