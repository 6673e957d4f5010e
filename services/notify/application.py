"""Notify's commands and queries: deliveries per ticket, dead letters and their re-drive, and the
tenant's set-up (rules, message templates, quiet hours, links, provider accounts, opt-outs)."""

from __future__ import annotations

from datetime import datetime, UTC
from typing import Any, TypeVar
from collections.abc import Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from shared.errors import Conflict, NotFound
from shared.eventstore import IntegrityError, ServiceApplication
from shared.jsonable import timeline_entry

from services.notify.audience import audience_id
from services.notify.delivery import DEAD, Delivery
from services.notify.optouts import OptOut, opt_out_id
from services.notify.providers import ProviderAccounts
from services.notify.roster import Roster, roster_id
from services.notify.outbox import OUTBOX
from services.notify.setup import NotifySetup

A = TypeVar("A", bound=Aggregate)


def utc_now() -> datetime:
    return datetime.now(UTC)


class NotifyApplication(ServiceApplication):
    name = "notify"
    outbox = OUTBOX

    def __init__(self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now):
        super().__init__(env)
        self.clock = clock

    def deliveries(self, tenant: str, ticket_id: UUID) -> list[dict[str, Any]]:
        """Every delivery a ticket caused (with those that took over on another channel), each with
        its events."""
        audience = self.find(audience_id(ticket_id), tenant)
        found, ids = [], list(audience.deliveries) if audience else []
        while ids:
            delivery = self.repository.get(ids.pop(0))
            events = self.repository.event_store.get(delivery.id)
            found.append({**delivery.to_dict(), "events": [timeline_entry(e) for e in events]})
            ids += [e.to for e in self.repository.event_store.get(delivery.id) if isinstance(e, Delivery.FellBack)]
        return found

    def dead_letters(self, tenant: str) -> list[Delivery]:
        ids, after = [], 0
        while page := self.recorder.select_notifications(
            start=after, limit=1000, inclusive_of_start=False, topics=[get_topic(Delivery.DeadLettered)]
        ):
            ids += [n.originator_id for n in page]
            after = page[-1].id
        found = {id_: self.repository.get(id_) for id_ in dict.fromkeys(ids)}
        return [d for d in found.values() if d.tenant == tenant and d.status == DEAD]

    def redrive(self, tenant: str, delivery_id: UUID, by: str) -> Delivery:
        delivery = self.get_delivery(tenant, delivery_id)
        delivery.redrive(by, self.clock())
        self._save(delivery)
        return delivery

    def roster(self, tenant: str) -> Roster | None:
        return self.find(roster_id(tenant), tenant)

    def setup(self, tenant: str) -> NotifySetup:
        return self.find(NotifySetup.create_id(tenant), tenant) or NotifySetup(tenant=tenant)

    def providers(self, tenant: str) -> ProviderAccounts:
        return self.find(ProviderAccounts.create_id(tenant), tenant) or ProviderAccounts(tenant=tenant)

    def change_setup(self, tenant: str, change: Callable[[NotifySetup], Any]) -> NotifySetup:
        return self._change(self.setup(tenant), change)

    def change_providers(self, tenant: str, change: Callable[[ProviderAccounts], Any]) -> ProviderAccounts:
        return self._change(self.providers(tenant), change)

    def opt_out(self, tenant: str, channel: str, address: str) -> OptOut:
        return self.find(opt_out_id(tenant, channel, address), tenant) or OptOut(
            tenant=tenant, channel=channel, address=address
        )

    def change_opt_out(self, tenant: str, channel: str, address: str, change: Callable[[OptOut], Any]) -> OptOut:
        return self._change(self.opt_out(tenant, channel, address), change)

    def _change(self, aggregate: A, change: Callable[[A], Any]) -> A:
        change(aggregate)
        self._save(aggregate)
        return aggregate

    def _save(self, aggregate: Aggregate) -> None:
        try:
            self.save(aggregate)
        except IntegrityError:
            raise Conflict("it changed meanwhile; try again") from None

    def get_delivery(self, tenant: str, delivery_id: UUID) -> Delivery:
        try:
            found = self.repository.get(delivery_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Delivery) or found.tenant != tenant:
            raise NotFound("no such delivery")
        return found
