"""Who is told what, in reaction to ticket events. Pure: it only collects new events."""

from __future__ import annotations

from shared.contracts import ticket_number
from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.notify.domain import TicketDeliveries

STAFF_CHANNEL = "outbox-file"  # real channels (WeCom, official account, SMS, e-mail) come later
CLOCKS = {"response": "响应", "resolution": "处理"}


def notify_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    """Who is told what: the handler a ticket is given (when it opens and on every later
    assignment: a transfer, a claim from a pool, a return), and about SLA warnings, breaches and
    escalations."""
    told = _messages(envelope)
    if not told:
        return
    deliveries = uow.get(TicketDeliveries.create_id(envelope.subject))
    if deliveries is None:
        deliveries = TicketDeliveries(tenant=envelope.tenant, ticket_id=envelope.subject)
        uow.add(deliveries)
    for recipient, message in told:
        deliveries.request(envelope.id, STAFF_CHANNEL, recipient, message)


def _messages(envelope: Envelope) -> list[tuple[str, str]]:
    """Who is told what about this event: (recipient, message) pairs."""
    data, ticket = envelope.data, f"工单 {ticket_number(envelope.subject)}"
    if envelope.type == "ticket.opened":
        return [(data["handler"], f"新工单待处理：{ticket}，节点「{data['node']}」，已指派给您。")]
    if envelope.type == "ticket.assigned" and data["by"] != "sla":  # an escalation says it itself
        return [(data["handler"], f"{ticket} 的节点「{data['node']}」已指派给您（{data['reason']}）。")]
    if envelope.type in ("ticket.sla_warned", "ticket.sla_breached") and data.get("handler"):
        what = "即将超时" if envelope.type == "ticket.sla_warned" else "已超时"
        return [(data["handler"], f"{ticket} 在节点「{data['node']}」的{CLOCKS.get(data['clock'], '')}时效{what}"
                                  f"（时限 {data['target']}，截止 {data['deadline']}）。")]
    if envelope.type == "ticket.escalated":
        prefix = "VIP 客户工单催办" if data.get("vip") else "工单超时升级"
        return [(to, f"{prefix}：{ticket}，节点「{data['node']}」。{data['reason']}") for to in data["to"]]
    return []
