"""How settlement reacts: ticket events from workflow move the tickets' ledgers, the ledgers' parts
lines move the stock. Pure: they only collect new events into the unit of work."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from collections.abc import Callable
from weakref import WeakKeyDictionary

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.settlement.domain.ledger import Ledger
from services.settlement.domain.stock import Movement, Stock
from services.settlement.domain.terms import Terms

RECORDED = {
    "ticket.parts_consumed": ("part", False),
    "ticket.parts_returned": ("part", True),
    "ticket.labour_recorded": ("labour", False),
}
FOLLOWED = {"ticket.opened", "ticket.closed", "ticket.transitioned", "ticket.sla_met", "ticket.sla_breached", *RECORDED}


def ledger_policy(terms_of: Callable[[str], Terms]):
    """`terms_of(tenant)` reads a tenant's terms as committed; they are read once per batch."""
    batches: WeakKeyDictionary[UnitOfWork, dict[str, Terms]] = WeakKeyDictionary()

    def terms(uow: UnitOfWork, tenant: str) -> Terms:
        tenants = batches.setdefault(uow, {})
        if tenant not in tenants:
            tenants[tenant] = terms_of(tenant)
        return tenants[tenant]

    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        kind, data = envelope.type, envelope.data
        if kind not in FOLLOWED:
            return
        ledger_id = Ledger.create_id(envelope.subject)
        if kind == "ticket.opened":
            if not uow.exists(ledger_id):
                uow.add(Ledger.open(envelope.tenant, envelope.subject, data.get("region")))
            return
        ledger = uow.get(ledger_id)
        if ledger is None:  # a ticket opened before settlement followed workflow
            ledger = Ledger.open(envelope.tenant, envelope.subject)
            uow.add(ledger)
        source, at = str(envelope.id), envelope.time
        if kind in RECORDED:
            what, returning = RECORDED[kind]
            ledger.record(what, source, at, data["by"], data["items"], terms(uow, envelope.tenant), returning)
        elif kind == "ticket.closed" or (kind == "ticket.transitioned" and data["status"] == "cancelled"):
            ledger.close(source, at, terms(uow, envelope.tenant))
        elif kind == "ticket.transitioned" and data["action"] == "reopen":
            ledger.reopen(source, at)
        elif kind == "ticket.sla_met":
            ledger.note_sla(source, data["on_time"])
        elif kind == "ticket.sla_breached":
            ledger.note_sla(source, on_time=False)

    return policy


def stock_policy(envelope: Envelope, uow: UnitOfWork) -> None:
    """A ledger's parts lines taken out of (or put back into) the warehouses they came from; a line
    with no warehouse (none set for the technician or the region) moves no stock."""
    if envelope.type != "settlement.parts_recorded":
        return
    by_warehouse: dict[str, list[Movement]] = defaultdict(list)
    for line in envelope.data["lines"]:
        if line["warehouse"]:
            # a consumption (positive on the ticket) takes parts out of the warehouse
            by_warehouse[line["warehouse"]].append(
                Movement(line["id"], str(envelope.subject), line["code"], -Decimal(line["quantity"]))
            )
    for warehouse, movements in sorted(by_warehouse.items()):
        stock = uow.get(Stock.create_id(envelope.tenant, warehouse))
        if stock is None:
            stock = Stock.open(envelope.tenant, warehouse)
            uow.add(stock)
        stock.move(movements)
