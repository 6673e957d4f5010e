"""A warehouse's stock of spare parts (库存).

Consumption takes parts out, a return puts them back, a receipt brings new ones. A consumption of
parts that are not in stock is recorded all the same and flagged with the quantity short (the job
is done; the stock record was wrong): the level goes below zero until a receipt or a count.
When a part's level falls below its threshold a stock-low event is emitted (a procurement
request, 采购申请), once per crossing: again only after the level has come back up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from shared.errors import Invalid

from services.settlement.domain.catalogue import check_code
from services.settlement.domain.money import ZERO

_STOCK_IDS = UUID("c5e4d3b2-a190-4f8e-9d7c-6b5a4f3e2d1c")
MAX_QUANTITY = Decimal("1e9")


@dataclass(frozen=True)
class Movement:
    line: str  # the ledger line (consumption or return) it comes from
    ticket_id: str
    code: str
    quantity: Decimal  # negative: out of the warehouse


class Stock(Aggregate):
    class Opened(Aggregate.Created):
        tenant: str
        warehouse: str

    class Changed(Aggregate.Event):
        """Levels changed; `low` is the parts below their threshold afterwards."""

        tenant: str
        low: list[str]

        def apply(self, stock: Stock) -> None:
            stock.low = set(self.low)

    class Moved(Changed):
        """Parts consumed or returned on tickets: each movement with the level after it and the
        quantity short (not in stock when it was consumed, "0" when none)."""

        movements: list[dict[str, str]]

        def apply(self, stock: Stock) -> None:
            super().apply(stock)
            for m in self.movements:
                stock.levels[m["code"]] = Decimal(m["level"])
                stock.shortages += Decimal(m["short"]) > 0

    class Received(Changed):
        receipt: str
        items: list[dict[str, str]]
        by: str

        def apply(self, stock: Stock) -> None:
            super().apply(stock)
            stock.receipts.add(self.receipt)
            for item in self.items:
                stock.levels[item["code"]] = stock.level(item["code"]) + Decimal(item["quantity"])

    class ThresholdSet(Changed):
        code: str
        threshold: str | None  # None: no threshold any more
        by: str

        def apply(self, stock: Stock) -> None:
            super().apply(stock)
            if self.threshold is None:
                stock.thresholds.pop(self.code, None)
            else:
                stock.thresholds[self.code] = Decimal(self.threshold)

    class Low(Aggregate.Event):
        """A part fell below its threshold: published as settlement.stock_low."""

        tenant: str
        warehouse: str
        code: str
        level: str
        threshold: str
        cause: str | None  # the ledger line whose consumption crossed it; None for a threshold raised

    @staticmethod
    def create_id(tenant: str, warehouse: str) -> UUID:
        return uuid5(_STOCK_IDS, f"{tenant}/{warehouse}")

    def __init__(self, tenant: str, warehouse: str):
        self.tenant = tenant
        self.warehouse = warehouse
        self.levels: dict[str, Decimal] = {}
        self.thresholds: dict[str, Decimal] = {}
        self.low: set[str] = set()
        self.receipts: set[str] = set()
        self.shortages = 0  # movements flagged short so far

    @classmethod
    def open(cls, tenant: str, warehouse: str) -> Stock:
        return cls._create(cls.Opened, id=cls.create_id(tenant, warehouse), tenant=tenant, warehouse=warehouse)

    def level(self, code: str) -> Decimal:
        return self.levels.get(code, ZERO)

    def move(self, movements: list[Movement]) -> None:
        levels, low, recorded, crossed = dict(self.levels), set(self.low), [], []
        for m in movements:
            before = levels.get(m.code, ZERO)
            after = levels[m.code] = before + m.quantity
            short = max(ZERO, -m.quantity - max(before, ZERO)) if m.quantity < 0 else ZERO
            recorded.append(
                {
                    "line": m.line,
                    "ticket_id": m.ticket_id,
                    "code": m.code,
                    "quantity": str(m.quantity),
                    "level": str(after),
                    "short": str(short),
                }
            )
            threshold = self.thresholds.get(m.code)
            if _crosses(m.code, after, threshold, low):
                crossed.append((m.code, after, threshold, m.line))
        if recorded:
            self.trigger_event(self.Moved, tenant=self.tenant, low=sorted(low), movements=recorded)
        self._announce(crossed)

    def receive(self, receipt: str, items: list[tuple[str, Decimal]], by: str) -> None:
        """Parts in (a delivery, a count's surplus): once per receipt id, however often it is sent."""
        if receipt in self.receipts:
            return
        if not items or any(not 0 < q < MAX_QUANTITY for _, q in items):
            raise Invalid("receive at least one part, each a positive quantity")
        levels, low = {check_code(code): self.level(code) for code, _ in items}, set(self.low)
        for code, quantity in items:
            levels[code] += quantity
        for code, level in levels.items():
            _crosses(code, level, self.thresholds.get(code), low)  # a receipt only ever lifts a part
        self.trigger_event(
            self.Received,
            tenant=self.tenant,
            low=sorted(low),
            receipt=receipt,
            items=[{"code": c, "quantity": str(q)} for c, q in items],
            by=by,
        )

    def set_threshold(self, code: str, threshold: Decimal | None, by: str) -> None:
        """Below `threshold`, a procurement request goes out; raising it above the level sends one now."""
        if threshold is not None and not 0 <= threshold < MAX_QUANTITY:
            raise Invalid("a threshold is 0 or more")
        if self.thresholds.get(check_code(code)) == threshold:
            return
        low, level = set(self.low), self.level(code)
        crossed = [(code, level, threshold, None)] if _crosses(code, level, threshold, low) else []
        self.trigger_event(
            self.ThresholdSet,
            tenant=self.tenant,
            low=sorted(low),
            code=code,
            threshold=None if threshold is None else str(threshold),
            by=by,
        )
        self._announce(crossed)

    def _announce(self, crossed: list[tuple[str, Decimal, Decimal, str | None]]) -> None:
        for code, level, threshold, cause in crossed:
            self.trigger_event(
                self.Low,
                tenant=self.tenant,
                warehouse=self.warehouse,
                code=code,
                level=str(level),
                threshold=str(threshold),
                cause=cause,
            )

    def view(self) -> dict[str, Any]:
        codes = sorted(set(self.levels) | set(self.thresholds))
        return {
            "warehouse": self.warehouse,
            "shortages": self.shortages,
            "parts": [
                {
                    "code": c,
                    "level": str(self.level(c)),
                    "threshold": None if c not in self.thresholds else str(self.thresholds[c]),
                    "low": c in self.low,
                }
                for c in codes
            ],
        }


def _crosses(code: str, level: Decimal, threshold: Decimal | None, low: set[str]) -> bool:
    """Whether `level` falls below `threshold` just now; `low` (the parts below theirs) follows."""
    if threshold is None or level >= threshold:
        low.discard(code)
        return False
    if code in low:
        return False
    low.add(code)
    return True
