"""Settings whose every entry has a history: a change takes effect at its instant and holds until
the next one. Pricing asks for the entry in force when the work happened, so a change never
reaches back: work done before it keeps the terms it was done under, on every replay.

The application records a change no earlier than the moment it records it (a future instant is
fine): an entry's answer for an instant is then fixed once that instant has passed.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from eventsourcing.domain import Aggregate

from shared.pertenant import PerTenant

T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    """(since, value) pairs in time order; a value of None means "gone from then on"."""

    changes: tuple[tuple[datetime, T | None], ...] = ()

    def at(self, when: datetime) -> T | None:
        i = bisect_right(self.changes, when, key=lambda change: change[0])
        return self.changes[i - 1][1] if i else None

    @property
    def latest(self) -> T | None:
        return self.changes[-1][1] if self.changes else None

    def then(self, since: datetime, value: T | None) -> Dated[T]:
        kept = tuple(c for c in self.changes if c[0] != since)  # the same instant again: the last word
        return Dated(tuple(sorted(kept + ((since, value),), key=lambda change: change[0])))


NEVER: Dated[Any] = Dated()


class DatedSettings(PerTenant):
    """A tenant's settings in named sections of dated entries. A subclass lists its sections with
    the function that reads a stored value (JSON) back, and declares its own `Changed` event so
    that its changes have their own topic."""

    SECTIONS = {}  # section -> reads a stored value; not annotated: eventsourcing makes annotated classes dataclasses

    class Changed(Aggregate.Event):
        tenant: str
        section: str
        since: datetime
        values: dict[str, Any]  # key -> the stored (JSON) value; None: gone from `since` on
        by: str

        def apply(self, settings: DatedSettings) -> None:
            read, table = settings.SECTIONS[self.section], settings.entries[self.section]
            for key, value in self.values.items():
                table[key] = table.get(key, NEVER).then(self.since, None if value is None else read(value))
            if self.since not in settings.instants:
                insort(settings.instants, self.since)
            settings.views.clear()

    def __init__(self, tenant: str):
        super().__init__(tenant)
        self.entries: dict[str, dict[str, Dated[Any]]] = {section: {} for section in self.SECTIONS}
        self.instants: list[datetime] = []  # every instant a change took effect, in order
        self.views: dict[tuple[str, int], dict[str, Any]] = {}  # (section, epoch) -> entries in force

    def change(self, section: str, since: datetime, values: dict[str, Any], by: str) -> None:
        if values:
            self.trigger_event(self.Changed, tenant=self.tenant, section=section, since=since, values=values, by=by)

    def at(self, section: str, key: str, when: datetime) -> Any | None:
        entry = self.entries[section].get(key)
        return entry.at(when) if entry else None

    def latest(self, section: str) -> dict[str, Any]:
        """The entries as they stand after every change recorded, future ones included."""
        return {key: entry.latest for key, entry in sorted(self.entries[section].items()) if entry.latest is not None}

    def epoch(self, when: datetime) -> int:
        """How many changes had taken effect at `when`: between two changes nothing differs."""
        return bisect_right(self.instants, when)

    def in_force(self, section: str, when: datetime) -> dict[str, Any]:
        """The section's entries in force at `when` (kept per epoch: read it, never change it)."""
        key = (section, self.epoch(when))
        if key not in self.views:
            found = {k: entry.at(when) for k, entry in sorted(self.entries[section].items())}
            self.views[key] = {k: value for k, value in found.items() if value is not None}
        return self.views[key]
