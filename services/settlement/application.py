"""Settlement commands and queries: a tenant's terms, tickets' ledgers, stock, period statements.
Ledgers and stock movements are recorded by the worker's policies (policies.py)."""

from __future__ import annotations

from datetime import datetime, UTC
from decimal import Decimal
from typing import Any, TypeVar
from collections.abc import Callable, Iterator
from uuid import UUID

from eventsourcing.utils import get_topic

from shared.errors import Conflict, Invalid, NotFound
from shared.eventstore import IntegrityError, ServiceApplication

from services.settlement.domain.dated import DatedSettings
from services.settlement.domain.ledger import Ledger
from services.settlement.domain.periods import period_statement
from services.settlement.domain.stock import Stock
from services.settlement.domain.terms import Terms
from services.settlement.outbox import OUTBOX

S = TypeVar("S", bound=DatedSettings)
T = TypeVar("T")
Clock = Callable[[], datetime]
DOCUMENTS = [get_topic(Ledger.StatementIssued), get_topic(Ledger.StatementReversed)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SettlementApplication(ServiceApplication):
    name = "settlement"
    outbox = OUTBOX

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = utc_now):
        super().__init__(env)
        self.clock = clock  # when a change is recorded (tests pass a controllable one)

    # --- a tenant's terms -------------------------------------------------------------

    def terms(self, tenant: str) -> Terms:
        """As committed, read through the shared copies (never change them)."""
        return Terms.of(tenant, *(self.current(kind.create_id(tenant), tenant) for kind in Terms.AGGREGATES))

    def change_terms(
        self, kind: type[S], tenant: str, change: Callable[[S, datetime], T], effective: datetime | None = None
    ) -> T:
        """Apply `change(settings, since)` to the tenant's `kind` of settings and save it. `since` is now,
        or a later `effective` instant: a change never takes effect before it is recorded."""
        now = self.clock()
        if effective is not None and effective < now:
            raise Invalid(
                f"a change takes effect from when it is recorded or later, not {effective.isoformat()}: "
                "what was settled before it keeps the terms it was settled under"
            )
        settings = self.find(kind.create_id(tenant), tenant) or kind(tenant=tenant)
        result = change(settings, effective or now)
        self._save(settings)
        return result

    # --- tickets ------------------------------------------------------------------------

    def ledger(self, tenant: str, ticket_id: UUID) -> Ledger:
        ledger = self.find(Ledger.create_id(ticket_id), tenant)
        if ledger is None:
            raise NotFound("no settlement for this ticket yet (it starts when the ticket opens)")
        return ledger

    def provisional(self, ledger: Ledger) -> dict[str, Any] | None:
        return ledger.provisional(self.terms(ledger.tenant), self.clock())

    def documents(self, tenant: str) -> Iterator[dict[str, Any]]:
        """Every statement and reversal of the tenant, in the order they were recorded."""
        after = 0
        while page := self.recorder.select_notifications(
            start=after, limit=1000, topics=DOCUMENTS, inclusive_of_start=False
        ):
            for notification in page:
                event = self.mapper.to_domain_event(notification)
                if event.tenant == tenant:
                    yield event.statement
            after = page[-1].id

    def period(
        self, tenant: str, view: str, who: str, start: datetime, end: datetime, currency: str | None = None
    ) -> dict[str, Any]:
        regions = self.terms(tenant).regions
        return period_statement(self.documents(tenant), view, who, start, end, currency, regions.rate)

    # --- stock -----------------------------------------------------------------------

    def stock(self, tenant: str, warehouse: str) -> Stock:
        self._warehouse(tenant, warehouse)
        return self.find(Stock.create_id(tenant, warehouse), tenant) or Stock.open(tenant, warehouse)

    def change_stock(self, tenant: str, warehouse: str, change: Callable[[Stock], None]) -> Stock:
        stock = self.stock(tenant, warehouse)
        change(stock)
        self._save(stock)
        return stock

    def receive(self, tenant: str, warehouse: str, receipt: str, items: list[tuple[str, Decimal]], by: str) -> Stock:
        known = self.terms(tenant).catalogue
        unknown = [code for code, _ in items if known.item("part", code, self.clock()) is None]
        if unknown:
            raise Invalid(f"not spare parts of the catalogue: {', '.join(unknown)}", codes=unknown)
        return self.change_stock(tenant, warehouse, lambda stock: stock.receive(receipt, items, by))

    def movements(self, tenant: str, warehouse: str, short_only: bool = False) -> list[dict[str, Any]]:
        """The parts moved through the warehouse on tickets, oldest first (only those short of stock)."""
        stock = self.stock(tenant, warehouse)
        moved = [
            m | {"at": e.timestamp.isoformat()}
            for e in self.events.get(stock.id)
            if isinstance(e, Stock.Moved)
            for m in e.movements
        ]
        return [m for m in moved if not short_only or Decimal(m["short"]) > 0]

    def _warehouse(self, tenant: str, warehouse: str) -> None:
        if self.terms(tenant).regions.warehouse(warehouse, self.clock()) is None:
            raise NotFound(f"no warehouse {warehouse!r}", warehouse=warehouse)

    def _save(self, aggregate: Any) -> None:
        try:
            self.save(aggregate)
        except IntegrityError:
            raise Conflict("it changed meanwhile; reload it and try again") from None
