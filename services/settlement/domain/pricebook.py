"""The price book (价格本): tiers (多档位), the internal settlement price of each item in each tier,
the fallback order, and the technicians' payout rules per tier.

A tier applies to work whose context it matches: every selector it names (an explicit region, a
region tier, a cooperation mode) must match, and its currency must be the region's. The most
specific matching tier that prices the code is used; if none does, the fallback order is tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.errors import Invalid

from services.settlement.domain.catalogue import check_code
from services.settlement.domain.dated import DatedSettings
from services.settlement.domain.money import check_currency

BASES = ("fixed", "percent", "hourly")
MAX_PRICE = Decimal("1e12")


@dataclass(frozen=True)
class Tier:
    name: str
    currency: str
    region: str | None = None  # one explicit region (its code)
    region_tier: str | None = None  # or every region of this tier (tier-1, tier-3, remote …)
    mode: str | None = None  # the cooperation mode of who does the work (direct, dealer, partner …)

    def __post_init__(self) -> None:
        check_code(self.name, "tier")
        check_currency(self.currency)
        if self.region and self.region_tier:
            raise Invalid(f"tier {self.name}: name a region or a region tier, not both")

    def matches(self, region: str, region_tier: str, mode: str) -> bool:
        return (
            (self.region is None or self.region == region)
            and (self.region_tier is None or self.region_tier == region_tier)
            and (self.mode is None or self.mode == mode)
        )

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        """An explicit region before a region tier before neither; a named mode before none."""
        return self.region is not None, self.region_tier is not None, self.mode is not None

    def selectors(self) -> str:
        named = [
            f"区域 {self.region}" if self.region else "",
            f"区域档位 {self.region_tier}" if self.region_tier else "",
            f"合作模式 {self.mode}" if self.mode else "",
        ]
        return "、".join(n for n in named if n) or "不限"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "currency": self.currency,
            "region": self.region,
            "region_tier": self.region_tier,
            "mode": self.mode,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tier:
        return cls(**data)


@dataclass(frozen=True)
class PayoutRule:
    """What a technician earns for one line: `value` per unit (fixed), per cent of the line's net
    amount (percent), or per standard hour of the service item (hourly)."""

    basis: str
    value: Decimal

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise Invalid(f"a payout basis is one of {', '.join(BASES)}")
        if not -MAX_PRICE < self.value < MAX_PRICE or (self.basis == "percent" and not 0 <= self.value <= 100):
            raise Invalid(f"payout {self.basis} {self.value}: out of range")

    def to_dict(self) -> dict[str, str]:
        return {"basis": self.basis, "value": str(self.value)}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> PayoutRule:
        return cls(data["basis"], Decimal(data["value"]))


@dataclass(frozen=True)
class PayoutRules:
    """A tier's payout rules. Line rules are chosen by the line's code, else its category, else its
    kind: keys "code:L-INSTALL", "category:维修", "kind:labour". Ticket adjustments (in the
    tier's currency) go to the ticket's lead technician at close."""

    lines: dict[str, PayoutRule] = field(default_factory=dict)
    sla_met_bonus: Decimal | None = None  # every SLA target of the ticket met
    sla_missed_penalty: Decimal | None = None  # a target missed (enter it as a positive amount)
    remote_surcharge: Decimal | None = None  # the ticket's region is remote

    ADJUSTMENTS = ("sla_met_bonus", "sla_missed_penalty", "remote_surcharge")

    def __post_init__(self) -> None:
        for key in self.lines:
            what, _, name = key.partition(":")
            if what not in ("code", "category", "kind") or not name:
                raise Invalid(f"payout rule {key!r}: say code:<code>, category:<category> or kind:<part|labour>")
        for name in self.ADJUSTMENTS:
            amount = getattr(self, name)
            if amount is not None and not 0 <= amount < MAX_PRICE:
                raise Invalid(f"{name}: a positive amount")

    def rule_for(self, code: str, category: str | None, kind: str) -> tuple[str, PayoutRule] | None:
        for key in (f"code:{code}", f"category:{category}", f"kind:{kind}"):
            if key in self.lines:
                return key, self.lines[key]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": {k: r.to_dict() for k, r in self.lines.items()},
            **{n: None if getattr(self, n) is None else str(getattr(self, n)) for n in self.ADJUSTMENTS},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PayoutRules:
        return cls(
            lines={k: PayoutRule.from_dict(r) for k, r in data.get("lines", {}).items()},
            **{n: None if data.get(n) is None else Decimal(data[n]) for n in cls.ADJUSTMENTS},
        )


def price_key(tier: str, code: str) -> str:
    return f"{tier} {code}"  # neither has spaces


def _fallback(order: list[str]) -> tuple[str, ...]:
    return tuple(order)


class PriceBook(DatedSettings):
    namespace = UUID("3c6b0f0a-7d7e-4a8e-8d8b-0e6f5c4b3a21")
    SECTIONS = {"tier": Tier.from_dict, "price": Decimal, "fallback": _fallback, "payout": PayoutRules.from_dict}

    class Changed(DatedSettings.Changed):
        """Tiers, prices, the fallback order or payout rules changed."""

    def save_tier(self, tier: Tier, since: datetime, by: str) -> None:
        self.change("tier", since, {tier.name: tier.to_dict()}, by)

    def set_prices(self, prices: list[tuple[str, str, Decimal]], since: datetime, by: str) -> int:
        """(tier, code, unit price) triples, all effective from `since`; the tiers must exist then."""
        values = {}
        for tier, code, price in prices:
            check_code(code)
            if self.tier(tier, since) is None:
                raise Invalid(f"no tier {tier!r} (define it first)", tier=tier)
            if not 0 <= price < MAX_PRICE or price.as_tuple().exponent < -6:
                raise Invalid(f"price of {code} in {tier}: 0 or more, at most 6 decimals", code=code)
            values[price_key(tier, code)] = str(price)
        self.change("price", since, values, by)
        return len(values)

    def set_fallback(self, order: list[str], since: datetime, by: str) -> None:
        unknown = [t for t in order if self.tier(t, since) is None]
        if unknown or len(set(order)) != len(order):
            raise Invalid(f"the fallback order names each tier once, and only tiers that exist: {unknown or order}")
        self.change("fallback", since, {"order": list(order)}, by)

    def set_payout_rules(self, tier: str, rules: PayoutRules, since: datetime, by: str) -> None:
        if self.tier(tier, since) is None:
            raise Invalid(f"no tier {tier!r} (define it first)", tier=tier)
        self.change("payout", since, {tier: rules.to_dict()}, by)

    # --- as of an instant --------------------------------------------------------------

    def tier(self, name: str, when: datetime) -> Tier | None:
        return self.at("tier", name, when)

    def tiers(self, when: datetime) -> list[Tier]:
        return list(self.in_force("tier", when).values())

    def price(self, tier: str, code: str, when: datetime) -> Decimal | None:
        return self.at("price", price_key(tier, code), when)

    def fallback(self, when: datetime) -> tuple[str, ...]:
        return self.at("fallback", "order", when) or ()

    def payout_rules(self, tier: str, when: datetime) -> PayoutRules | None:
        return self.at("payout", tier, when)
