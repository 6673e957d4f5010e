from datetime import datetime, timezone
from uuid import uuid4

from shared.contracts import ticket_number
from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.notify.application import NotifyApplication
from services.notify.domain import TicketDeliveries
from services.notify.policies import notify_policy


def envelope(type_, ticket, **data):
    return Envelope(id=uuid4(), source="scrm/workflow", type=type_, subject=ticket,
                    time=datetime.now(timezone.utc), tenant="acme", data=data)


def test_each_handler_a_ticket_is_given_is_told_once_and_nothing_else_is_sent():
    app = NotifyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ticket = uuid4()
    opened = envelope("ticket.opened", ticket, node="受理", handler="cs-1", reason="the node names cs-1",
                      template="refund", template_version=1)
    transferred = envelope("ticket.assigned", ticket, node="受理", handler="cs-2", kind="user", value="cs-2",
                           reason="transferred by cs-1", by="cs-1")
    uow = UnitOfWork(app, optimistic=False)
    for e in (opened, transferred, transferred, envelope("ticket.transitioned", ticket, node="受理")):
        notify_policy(e, uow)
    deliveries = uow.get(TicketDeliveries.create_id(ticket)).deliveries.values()
    assert sorted(d["recipient"] for d in deliveries) == ["cs-1", "cs-2"]
    to_cs2 = next(d["message"] for d in deliveries if d["recipient"] == "cs-2")
    assert ticket_number(ticket) in to_cs2 and "transferred by cs-1" in to_cs2
