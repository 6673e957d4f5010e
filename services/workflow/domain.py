"""Tickets and the templates they flow through. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid, NotAllowed


@dataclass(frozen=True)
class Template:
    name: str
    version: int
    nodes: tuple[str, ...]
    handler: str  # who handles every node, until templates are configurable

    @property
    def first(self) -> str:
        return self.nodes[0]

    def after(self, node: str) -> str:
        return self.nodes[self.nodes.index(node) + 1]

    def is_last(self, node: str) -> bool:
        return node == self.nodes[-1]


def default_template(handler: str) -> Template:
    return Template(name="default", version=1, nodes=("处理中", "已完成"), handler=handler)


def items(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalise recorded items: a code and a positive Decimal quantity each."""
    if not raw:
        raise Invalid("record at least one item")
    out = []
    for item in raw:
        quantity = Decimal(str(item["quantity"]))
        if quantity <= 0:
            raise Invalid("quantities must be positive", code=item["code"])
        out.append({"code": str(item["code"]), "quantity": quantity})
    return out


class Ticket(Aggregate):
    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return ticket_id  # the id intake derived from the submission

    @event("Opened")
    def __init__(self, ticket_id: UUID, tenant: str, template: str, template_version: int, node: str,
                 handler: str, reason: str, customer: dict[str, Any], description: str, channel: str):
        """Opening a ticket enters its template's first node with that node's handler."""
        self.tenant = tenant
        self.template = template
        self.template_version = template_version
        self.node = node
        self.handler = handler
        self.customer = customer
        self.description = description
        self.channel = channel
        self.closed = False

    @classmethod
    def open(cls, ticket_id: UUID, tenant: str, template: Template, customer: dict[str, Any],
             description: str, channel: str) -> Ticket:
        return cls(ticket_id=ticket_id, tenant=tenant, template=template.name, template_version=template.version,
                   node=template.first, handler=template.handler, reason="the template's default handler",
                   customer=customer, description=description, channel=channel)

    def consume_parts(self, by: str, raw_items: list[dict[str, Any]]) -> None:
        self._check_may_act(by)
        self._parts_consumed(tenant=self.tenant, by=by, items=items(raw_items))

    @event("PartsConsumed")
    def _parts_consumed(self, tenant: str, by: str, items: list[dict[str, Any]]) -> None:
        pass

    def record_labour(self, by: str, raw_items: list[dict[str, Any]]) -> None:
        self._check_may_act(by)
        self._labour_recorded(tenant=self.tenant, by=by, items=items(raw_items))

    @event("LabourRecorded")
    def _labour_recorded(self, tenant: str, by: str, items: list[dict[str, Any]]) -> None:
        pass

    def close(self, by: str, template: Template) -> None:
        self._check_may_act(by)
        to_node = template.after(self.node)
        if not template.is_last(to_node):
            raise Conflict(f"the ticket must pass {to_node!r} before it can close")
        self._closed(tenant=self.tenant, from_node=self.node, to_node=to_node, by=by)

    @event("Closed")
    def _closed(self, tenant: str, from_node: str, to_node: str, by: str) -> None:
        self.node = to_node
        self.closed = True

    def _check_may_act(self, by: str) -> None:
        if self.closed:
            raise Conflict("the ticket is closed")
        if by != self.handler:
            raise NotAllowed("only the ticket's current handler may act on it", handler_rule="current-handler")
