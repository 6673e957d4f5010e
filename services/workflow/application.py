"""Workflow commands (staff actions) and queries."""

from __future__ import annotations

from typing import Any, Callable
from uuid import UUID

from shared.errors import Conflict, NotFound
from shared.eventstore import IntegrityError, ServiceApplication

from services.workflow.domain import Template, Ticket


class WorkflowApplication(ServiceApplication):
    name = "workflow"

    def __init__(self, template: Template, env: dict[str, str] | None = None):
        super().__init__(env)
        self.template = template

    def ticket(self, ticket_id: UUID, tenant: str) -> Ticket:
        ticket = self.find(ticket_id, tenant)
        if ticket is None:
            raise NotFound("no such ticket (it may still be on its way from intake)")
        return ticket

    def history(self, ticket_id: UUID, tenant: str) -> list[Any]:
        self.ticket(ticket_id, tenant)
        return list(self.events.get(ticket_id))

    def consume_parts(self, tenant: str, ticket_id: UUID, by: str, items: list[dict]) -> Ticket:
        return self._act(tenant, ticket_id, lambda t: t.consume_parts(by, items))

    def record_labour(self, tenant: str, ticket_id: UUID, by: str, items: list[dict]) -> Ticket:
        return self._act(tenant, ticket_id, lambda t: t.record_labour(by, items))

    def close_ticket(self, tenant: str, ticket_id: UUID, by: str) -> Ticket:
        return self._act(tenant, ticket_id, lambda t: t.close(by, self.template))

    def _act(self, tenant: str, ticket_id: UUID, action: Callable[[Ticket], None]) -> Ticket:
        ticket = self.ticket(ticket_id, tenant)
        action(ticket)
        try:
            self.save(ticket)
        except IntegrityError:
            raise Conflict("the ticket changed meanwhile; reload it and try again") from None
        return ticket
