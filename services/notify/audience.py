"""What notify knows of one ticket to address its messages: the customer (from intake's ticket.created),
the template and who handles each node (from workflow's events), which nodes the last step entered
(so that an assignment can be told apart from a transfer), the events already noticed, and customer
messages held until the customer is known (the two services' events may arrive in either order).
One aggregate per ticket, its id derived from the ticket id. No I/O.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_IDS = UUID("4b8f2e6a-0d3c-4a71-9e5b-7c1d3f8a2b60")


def audience_id(ticket_id: UUID) -> UUID:
    return uuid5(_IDS, str(ticket_id))


class TicketAudience(Aggregate):
    @staticmethod
    def create_id(tenant: str, ticket_id: UUID) -> UUID:
        return audience_id(ticket_id)

    @event("Opened")
    def __init__(self, tenant: str, ticket_id: UUID):
        self.tenant, self.ticket_id = tenant, ticket_id
        self.customer: dict[str, Any] | None = None
        self.template: str | None = None
        self.handlers: dict[str, str] = {}  # node -> handler ("user", "role:x", "department:y")
        self.entering: dict[str, str] = {}  # node -> the action that entered it, until it is assigned
        self.noticed: dict[str, list[UUID]] = {}  # cause (policies.cause_of) -> the deliveries it caused
        self.held: list[dict[str, Any]] = []  # customer notices waiting for the customer

    def seen(self, cause: UUID) -> bool:
        return str(cause) in self.noticed

    def know_customer(self, customer: dict[str, Any]) -> None:
        if self.customer != customer:
            self._customer_known(customer=customer)

    @event("CustomerKnown")
    def _customer_known(self, customer: dict[str, Any]) -> None:
        self.customer = customer

    def follow(self, template: str | None, handlers: dict[str, str], entering: dict[str, str]) -> None:
        """Where the ticket stands after an event: `handlers` and `entering` replace what they name;
        a node assigned leaves `entering`."""
        if (
            template != self.template
            or any(self.handlers.get(n) != h for n, h in handlers.items())
            or any(self.entering.get(n) != a for n, a in entering.items())
            or set(handlers) & set(self.entering)
        ):
            self._followed(template=template or self.template, handlers=handlers, entering=entering)

    @event("Followed")
    def _followed(self, template: str | None, handlers: dict[str, str], entering: dict[str, str]) -> None:
        self.template = template
        for node, handler in handlers.items():
            self.handlers[node] = handler
            self.entering.pop(node, None)
        self.entering.update(entering)

    def noticed_by(self, cause: UUID, deliveries: list[UUID]) -> None:
        self._noticed(envelope=str(cause), deliveries=deliveries)

    @event("Noticed")
    def _noticed(self, envelope: str, deliveries: list[UUID]) -> None:
        self.noticed.setdefault(envelope, []).extend(deliveries)

    def release(self, held: dict[str, Any], deliveries: list[UUID]) -> None:
        """A held customer notice was requested, now that the customer is known."""
        self._released(envelope=held["cause"], kind=held["kind"], deliveries=deliveries)

    @event("Released")
    def _released(self, envelope: str, kind: str, deliveries: list[UUID]) -> None:
        self.noticed.setdefault(envelope, []).extend(deliveries)
        self.held = [h for h in self.held if (h["cause"], h["kind"]) != (envelope, kind)]

    def hold(self, notice: dict[str, Any]) -> None:
        self._held(notice=notice)

    @event("Held")
    def _held(self, notice: dict[str, Any]) -> None:
        self.held.append(notice)

    @property
    def deliveries(self) -> list[UUID]:
        return [d for ds in self.noticed.values() for d in ds]
