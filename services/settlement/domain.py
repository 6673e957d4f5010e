"""Per-ticket settlement: lines recorded from workflow events, priced once at close.
Money is Decimal in one currency, rounded half-up to the cent. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

CENT = Decimal("0.01")
_SETTLEMENT_IDS = UUID("5a0f4f7e-2c1d-4b7a-9f0e-3c9d8b7a6e51")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PriceBook:
    currency: str
    tax_rate: Decimal
    parts: dict[str, Decimal] = field(default_factory=dict)
    labour: dict[str, Decimal] = field(default_factory=dict)
    payout_share: dict[str, Decimal] = field(default_factory=dict)  # kind -> technician's share

    def unit_price(self, kind: str, code: str) -> Decimal | None:
        return (self.parts if kind == "part" else self.labour).get(code)


BUILT_IN = PriceBook(
    currency="CNY",
    tax_rate=Decimal("0.06"),
    parts={"P-FILTER": Decimal("35.00"), "P-VALVE": Decimal("120.00"),
           "P-MOTOR": Decimal("480.00"), "P-HOSE": Decimal("18.50")},
    labour={"L-VISIT": Decimal("50.00"), "L-INSTALL": Decimal("150.00"), "L-REPAIR": Decimal("200.00")},
    payout_share={"part": Decimal("0.05"), "labour": Decimal("0.60")},
)


def price(book: PriceBook, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The statement for recorded lines: priced lines, subtotal, tax, total and payout."""
    priced, by_kind = [], {"part": Decimal(0), "labour": Decimal(0)}
    for line in lines:
        unit = book.unit_price(line["kind"], line["code"])
        amount = money(line["quantity"] * (unit or Decimal(0)))
        by_kind[line["kind"]] += amount
        priced.append({**line, "unit_price": unit or Decimal("0.00"), "amount": amount, "priced": unit is not None})
    subtotal = sum(by_kind.values(), Decimal("0.00"))
    tax = money(subtotal * book.tax_rate)
    payout = money(sum((by_kind[k] * book.payout_share[k] for k in by_kind), Decimal(0)))
    return {"currency": book.currency, "lines": priced, "subtotal": subtotal, "tax": tax,
            "total": subtotal + tax, "payout": payout}


class Settlement(Aggregate):
    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return uuid5(_SETTLEMENT_IDS, str(ticket_id))

    @event("Opened")
    def __init__(self, tenant: str, ticket_id: UUID):
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.sources: list[str] = []
        self.lines: list[dict[str, Any]] = []
        self.statement: dict[str, Any] | None = None

    def record(self, source: UUID, kind: str, by: str, items: list[dict[str, Any]]) -> None:
        """Record consumed items once per source event, however often it is delivered."""
        if str(source) in self.sources or self.statement is not None:
            return
        lines = [{"kind": kind, "code": i["code"], "quantity": Decimal(i["quantity"]), "by": by} for i in items]
        self._recorded(tenant=self.tenant, source=str(source), lines=lines)

    @event("LinesRecorded")
    def _recorded(self, tenant: str, source: str, lines: list[dict[str, Any]]) -> None:
        self.sources.append(source)
        self.lines.extend(lines)

    def issue(self, book: PriceBook, technician: str) -> None:
        if self.statement is None:
            self._issued(tenant=self.tenant, ticket_id=self.ticket_id, technician=technician,
                         **price(book, self.lines))

    @event("StatementIssued")
    def _issued(self, tenant: str, ticket_id: UUID, technician: str, currency: str, lines: list,
                subtotal: Decimal, tax: Decimal, total: Decimal, payout: Decimal) -> None:
        self.statement = {"ticket_id": ticket_id, "technician": technician, "currency": currency,
                          "lines": lines, "subtotal": subtotal, "tax": tax, "total": total, "payout": payout}
