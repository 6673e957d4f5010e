"""Regions (结算区域): where work is settled, in which currency, under which tax rules; the
exchange rates between currencies; warehouses and the rules that split a ticket's cost across regions.

A ticket's region is a path such as "广东/深圳/南山" (intake's regions). A settlement region covers
paths; the region covering the longest prefix of the ticket's path is the ticket's, and one that
covers "*" takes every ticket no other covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.errors import Conflict, Invalid

from services.settlement.domain.catalogue import check_code
from services.settlement.domain.dated import DatedSettings
from services.settlement.domain.money import check_currency

EVERYWHERE = "*"
COST_BEARERS = ("ticket", "technician", "warehouse")  # whose region bears a line's cost


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    currency: str
    tier: str  # the region tier (tier-1, tier-3, remote …) price tiers are chosen by
    covers: tuple[str, ...]  # ticket region paths ("广东/深圳"); "*" for every path no other region covers
    tax: dict[str, Decimal]  # line category -> rate (0.13 for 13 %); "*" for every other category
    tax_inclusive: bool  # prices include tax (gross is the price) or not (net is)
    remote: bool = False  # work here earns the remote-area surcharge

    def __post_init__(self) -> None:
        check_code(self.code, "region")
        check_currency(self.currency)
        check_code(self.tier, "region tier")
        if not self.covers or any(not p or p != p.strip("/ ") or len(p) > 200 for p in self.covers):
            raise Invalid(f"region {self.code}: covers is a list of region paths such as 广东/深圳, or *")
        if EVERYWHERE not in self.tax:
            raise Invalid(f'region {self.code}: give a tax rate for every other category ("*")')
        if any(not 0 <= rate < 1 for rate in self.tax.values()):
            raise Invalid(f"region {self.code}: tax rates are fractions from 0 to 1 (0.13 for 13 %)")

    def tax_rate(self, category: str | None) -> Decimal:
        return self.tax.get(category or EVERYWHERE, self.tax[EVERYWHERE])

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "currency": self.currency,
            "tier": self.tier,
            "covers": list(self.covers),
            "tax": {k: str(v) for k, v in self.tax.items()},
            "tax_inclusive": self.tax_inclusive,
            "remote": self.remote,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Region:
        return cls(**{**data, "covers": tuple(data["covers"]), "tax": {k: Decimal(v) for k, v in data["tax"].items()}})


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    region: str
    main: bool = False  # parts for the region's tickets come from here, unless the technician has their own

    def __post_init__(self) -> None:
        check_code(self.code, "warehouse")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "region": self.region, "main": self.main}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Warehouse:
        return cls(**data)


@dataclass(frozen=True)
class CostRules:
    """Whose region bears the cost of a line, by kind: the ticket's, the technician's home region or
    the warehouse's. When that one is unknown, the ticket's region bears it."""

    bearers: dict[str, str] = field(default_factory=lambda: {"labour": "technician", "part": "warehouse"})

    def __post_init__(self) -> None:
        if set(self.bearers) - {"labour", "part"} or set(self.bearers.values()) - set(COST_BEARERS):
            raise Invalid(f"cost rules map labour and part to one of {', '.join(COST_BEARERS)}")

    def bearer(self, kind: str) -> str:
        return self.bearers.get(kind, "ticket")

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> CostRules:
        return cls(dict(data))


def rate_key(base: str, quote: str) -> str:
    return f"{base}/{quote}"


class Regions(DatedSettings):
    namespace = UUID("9e2d7c4b-1f3a-4e6d-8b5c-2a1f0e9d8c73")
    SECTIONS = {
        "region": Region.from_dict,
        "warehouse": Warehouse.from_dict,
        "rate": Decimal,
        "cost": CostRules.from_dict,
    }

    class Changed(DatedSettings.Changed):
        """Regions, warehouses, exchange rates or the cost rules changed."""

    def save_region(self, region: Region, since: datetime, by: str) -> None:
        was = self.latest("region").get(region.code)
        if was is not None and was.currency != region.currency:
            raise Conflict(
                f"region {region.code} settles in {was.currency}: a region keeps its currency "
                "(define a new region for another one)",
                region=region.code,
            )
        taken = {path: r.code for r in self.latest("region").values() if r.code != region.code for path in r.covers}
        clash = sorted(p for p in region.covers if p in taken)
        if clash:
            raise Conflict(f"{', '.join(clash)} already covered by region {taken[clash[0]]}", paths=clash)
        self.change("region", since, {region.code: region.to_dict()}, by)

    def save_warehouse(self, warehouse: Warehouse, since: datetime, by: str) -> None:
        if self.region(warehouse.region, since) is None:
            raise Invalid(f"no region {warehouse.region!r} (define it first)", region=warehouse.region)
        main = self.main_warehouse(warehouse.region, since)
        if warehouse.main and main is not None and main.code != warehouse.code:
            raise Conflict(
                f"{main.code} is the main warehouse of region {warehouse.region} already", warehouse=main.code
            )
        self.change("warehouse", since, {warehouse.code: warehouse.to_dict()}, by)

    def set_rate(self, base: str, quote: str, rate: Decimal, since: datetime, by: str) -> None:
        """1 `base` is worth `rate` `quote` from `since` on (HKD/CNY 0.92)."""
        check_currency(base), check_currency(quote)
        if base == quote or not 0 < rate < Decimal("1e9") or rate.as_tuple().exponent < -10:
            raise Invalid("a rate converts one currency to another: more than 0, at most 10 decimals")
        self.change("rate", since, {rate_key(base, quote): str(rate)}, by)

    def set_cost_rules(self, rules: CostRules, since: datetime, by: str) -> None:
        self.change("cost", since, {"rules": dict(rules.bearers)}, by)

    # --- as of an instant --------------------------------------------------------------

    def region(self, code: str, when: datetime) -> Region | None:
        return self.at("region", code, when)

    def warehouse(self, code: str, when: datetime) -> Warehouse | None:
        return self.at("warehouse", code, when)

    def main_warehouse(self, region: str, when: datetime) -> Warehouse | None:
        return next((w for w in self.in_force("warehouse", when).values() if w.region == region and w.main), None)

    def cost_rules(self, when: datetime) -> CostRules:
        return self.at("cost", "rules", when) or CostRules()

    def region_of(self, path: str | None, when: datetime) -> Region | None:
        """The region covering the longest prefix of `path` (whole segments), else the one covering "*"."""
        best, best_length = None, -1
        segments = path.split("/") if path else []
        for region in self.in_force("region", when).values():
            for cover in region.covers:
                length = 0 if cover == EVERYWHERE else len(cover.split("/"))
                if length > best_length and (cover == EVERYWHERE or segments[:length] == cover.split("/")):
                    best, best_length = region, length
        return best

    def rate(self, base: str, quote: str, when: datetime) -> Decimal | None:
        """How much `quote` one `base` is worth at `when`: the pair as entered, else its inverse."""
        if base == quote:
            return Decimal(1)
        direct = self.at("rate", rate_key(base, quote), when)
        if direct is not None:
            return direct
        inverse = self.at("rate", rate_key(quote, base), when)
        return None if inverse is None else 1 / inverse
