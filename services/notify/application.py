"""Notify queries (deliveries are requested and made by the worker)."""

from __future__ import annotations

from uuid import UUID

from shared.eventstore import ServiceApplication

from services.notify.domain import TicketDeliveries
from services.notify.outbox import OUTBOX


class NotifyApplication(ServiceApplication):
    name = "notify"
    outbox = OUTBOX

    def deliveries(self, tenant: str, ticket_id: UUID) -> list[dict]:
        found = self.find(TicketDeliveries.create_id(ticket_id), tenant)
        return list(found.deliveries.values()) if found else []
