"""The deliveries waiting to be sent, and who opted out of what: a read model of notify's own log,
rebuilt from it when the sender starts and kept current by reading on (the sender's own events
included). A delivery is kept while it is pending and dropped once finished; a dead letter that an
operator re-drives comes back through its Redriven event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from collections.abc import Callable
from uuid import UUID

from shared.slices import WHOLE, Slice

from services.notify.delivery import Delivery
from services.notify.optouts import OptOut

OPT_OUT_EVENTS = (OptOut.Created, OptOut.OptedOut, OptOut.OptedIn)
DELIVERY_EVENTS = (
    Delivery.Requested,
    Delivery.Deferred,
    Delivery.Sent,
    Delivery.Failed,
    Delivery.DeadLettered,
    Delivery.FellBack,
    Delivery.Withheld,
    Delivery.Redriven,
)


class Pending:
    def __init__(self, part: Slice = WHOLE):
        self.part = part
        self.position = 0  # the last notification read
        self.deliveries: dict[UUID, Delivery] = {}
        self.refusals: dict[tuple[str, str, str], set[str]] = {}  # (tenant, channel, address) -> kinds

    def apply(self, event: Any, load: Callable[[UUID], Delivery | None]) -> None:
        if isinstance(event, OptOut.OptedOut):
            self.refusals.setdefault((event.tenant, event.channel, event.address), set()).update(event.kinds)
        elif isinstance(event, OptOut.OptedIn):
            self.refusals.pop((event.tenant, event.channel, event.address), None)
        elif isinstance(event, DELIVERY_EVENTS) and self.part.takes(event.originator_id):
            self._delivery_event(event, load)

    def _delivery_event(self, event: Any, load: Callable[[UUID], Delivery | None]) -> None:
        id_ = event.originator_id
        known = self.deliveries.get(id_)
        if known is None:
            if isinstance(event, Delivery.Requested):
                self.add(event.mutate(None))
            elif isinstance(event, Delivery.Redriven):
                self.add(load(id_))
            return  # otherwise finished, and no longer kept
        if event.originator_version == known.version + 1:
            event.mutate(known)
        elif event.originator_version > known.version + 1:  # missed some (another process wrote them)
            known = load(id_)
        self.add(known)

    def add(self, delivery: Delivery | None) -> None:
        if delivery is None:
            return
        if delivery.finished:
            self.deliveries.pop(delivery.id, None)
        else:
            self.deliveries[delivery.id] = delivery

    def refuses(self, delivery: Delivery) -> bool:
        kinds = self.refusals.get((delivery.tenant, delivery.channel, delivery.address), ())
        return "*" in kinds or delivery.kind in kinds

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        ready = [d for d in self.deliveries.values() if d.due is not None and d.due <= now]
        return sorted(ready, key=lambda d: d.due)[:limit]

    def next_due(self) -> datetime | None:
        return min((d.due for d in self.deliveries.values() if d.due is not None), default=None)
