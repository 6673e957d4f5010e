"""How workflow reacts to other services' events. Pure: it only collects new events."""

from __future__ import annotations

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.workflow.domain import Template, Ticket


def ticket_policy(template: Template):
    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        if envelope.type != "ticket.created" or uow.exists(envelope.subject):
            return
        data = envelope.data
        uow.add(Ticket.open(envelope.subject, envelope.tenant, template, customer=data["customer"],
                            description=data["description"], channel=data["channel"]))
    return policy
