"""Who is told what, in reaction to ticket events. Pure: it only collects new events."""

from __future__ import annotations

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.notify.domain import TicketDeliveries

STAFF_CHANNEL = "outbox-file"  # real channels (WeCom, official account, SMS, e-mail) come later


def notify_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    if envelope.type != "ticket.opened":
        return
    deliveries = uow.get(TicketDeliveries.create_id(envelope.subject))
    if deliveries is None:
        deliveries = TicketDeliveries(tenant=envelope.tenant, ticket_id=envelope.subject)
        uow.add(deliveries)
    data = envelope.data
    message = f"新工单待处理：工单 {str(envelope.subject)[:8]}，节点「{data['node']}」，已指派给您。"
    deliveries.request(envelope.id, STAFF_CHANNEL, data["handler"], message)
