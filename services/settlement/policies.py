"""How settlement reacts to ticket events. Pure: it only collects new events."""

from __future__ import annotations

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.settlement.domain import PriceBook, Settlement

KINDS = {"ticket.parts_consumed": "part", "ticket.labour_recorded": "labour"}


def settlement_policy(book: PriceBook):
    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        if envelope.type not in KINDS and envelope.type != "ticket.closed":
            return
        settlement = uow.get(Settlement.create_id(envelope.subject))
        if settlement is None:
            settlement = Settlement(tenant=envelope.tenant, ticket_id=envelope.subject)
            uow.add(settlement)
        if envelope.type == "ticket.closed":
            settlement.issue(book, technician=envelope.data["by"])
        else:
            settlement.record(envelope.id, KINDS[envelope.type], envelope.data["by"], envelope.data["items"])
    return policy
