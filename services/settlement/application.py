"""Settlement queries (statements are issued by the worker's policy)."""

from __future__ import annotations

from uuid import UUID

from shared.errors import NotFound
from shared.eventstore import ServiceApplication

from services.settlement.domain import PriceBook, Settlement
from services.settlement.outbox import OUTBOX


class SettlementApplication(ServiceApplication):
    name = "settlement"
    outbox = OUTBOX

    def __init__(self, book: PriceBook, env: dict[str, str] | None = None):
        super().__init__(env)
        self.book = book

    def statement(self, tenant: str, ticket_id: UUID) -> dict:
        settlement = self.find(Settlement.create_id(ticket_id), tenant)
        if settlement is None or settlement.statement is None:
            raise NotFound("no statement for this ticket yet (it is issued when the ticket closes)")
        return settlement.statement
