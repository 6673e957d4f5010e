"""Customers intake merged (its public customer.merged): a ticket raised by the customer merged away is
found, and shown, under the one who stays. Tickets keep the customer id they were opened with; lists
(readmodels/queries.py) and the ticket's view map it when they are read, whichever of the two events
arrived first. No I/O here."""

from __future__ import annotations

from typing import Any

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork
from shared.merges import CustomerMerges


def merges_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    if envelope.type != "customer.merged" or not envelope.tenant:
        return
    merges = uow.get(CustomerMerges.create_id(envelope.tenant))
    if merges is None:
        merges = CustomerMerges(tenant=envelope.tenant)
        uow.add(merges)
    merges.learn(envelope.data)


def as_survivor(customer: dict[str, Any], merges: CustomerMerges | None) -> dict[str, Any]:
    """A ticket's customer block under the id of the customer who stays."""
    known = customer.get("customer_id")
    if merges is None or known is None or known not in merges.into:
        return customer
    return {**customer, "customer_id": merges.survivor(known)}
