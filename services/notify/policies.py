"""Who is told what, in reaction to ticket events. Pure: it only collects new events."""

from __future__ import annotations

from shared.contracts import ticket_number
from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.notify.domain import TicketDeliveries

STAFF_CHANNEL = "outbox-file"  # real channels (WeCom, official account, SMS, e-mail) come later


def notify_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    """The handler a ticket is given is told: when it opens, and on every later assignment
    (a transfer, a claim from a pool, a return to an earlier handler)."""
    message = _MESSAGES.get(envelope.type)
    if message is None:
        return
    deliveries = uow.get(TicketDeliveries.create_id(envelope.subject))
    if deliveries is None:
        deliveries = TicketDeliveries(tenant=envelope.tenant, ticket_id=envelope.subject)
        uow.add(deliveries)
    data = envelope.data
    text = message.format(number=ticket_number(envelope.subject), node=data["node"], reason=data.get("reason", ""))
    deliveries.request(envelope.id, STAFF_CHANNEL, data["handler"], text)


_MESSAGES = {
    "ticket.opened": "新工单待处理：工单 {number}，节点「{node}」，已指派给您。",
    "ticket.assigned": "工单 {number} 的节点「{node}」已指派给您（{reason}）。",
}
