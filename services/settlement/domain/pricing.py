"""One line of work priced by the terms in force when it was recorded. A pure function.

The rules (README, "Settlement"):
- the tier: the most specific tier matching the ticket's region (explicit region, else region
  tier) and the technician's cooperation mode, in the region's currency, that prices the code;
  else the first tier of the fallback order that does; the line says which and why;
- amounts, per line: tax-exclusive regions: net = round(quantity × unit price), tax = round(net ×
  rate), gross = net + tax; tax-inclusive: gross = round(quantity × unit price), tax = round(gross
  × rate / (1 + rate)), net = gross − tax. Rounding is half-up to the currency's minor unit;
- the payout: the tier's rule for the line's code, else its category, else its kind: a fixed
  amount per unit, a per cent of net, or an hourly rate × the item's standard hours × quantity,
  rounded the same way;
- a return is credited exactly as the ticket's latest consumption of that part was charged;
- a part comes from the technician's warehouse, else the main warehouse of the ticket's region.

A line is kept in its JSON form (amounts as decimal strings): that is how it is stored and
published, and encoding it needs no walk through its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from services.settlement.domain.catalogue import Item
from services.settlement.domain.ids import derived, namespace
from services.settlement.domain.money import rounded, zero
from services.settlement.domain.parties import Technician
from services.settlement.domain.pricebook import PriceBook, Tier
from services.settlement.domain.regions import Region
from services.settlement.domain.terms import Terms

_LINE_IDS = namespace("7f3e9a1c-4b2d-4e8f-a6c5-1d0b9e8f7a63")


class Work(NamedTuple):
    """One item of work as the upstream event recorded it (a tuple: a statement makes one per line)."""

    source: str  # the id of the event that recorded it
    index: int  # its place among the event's items
    at: datetime  # when it was recorded: the terms in force then apply
    kind: str  # part | labour
    code: str
    quantity: Decimal  # negative for parts returned
    by: str  # who recorded it: the technician who did the work
    region: str | None  # the code of the region the ticket settles in
    warehouse: str | None = None  # a part: where it came from (or went back to)

    @property
    def line_id(self) -> str:
        return work_line_id(self.source, self.index)


def work_line_id(source: str, index: int) -> str:
    """The id of the line for the `index`-th item of the event `source`."""
    return derived(_LINE_IDS, f"{source}:{index}")


@dataclass(frozen=True)
class Choice:
    tier: Tier | None
    unit_price: Decimal | None
    why: str


def price(terms: Terms, work: Work) -> dict[str, Any]:
    """The priced line for `work` under `terms` as of `work.at`. What depends on neither the quantity nor
    the event is worked out once for all the work the same terms price alike (Terms.memo), and so are the
    amounts of each quantity of it (by its text: 2 and 2.0 are written differently)."""
    key = (terms.epoch(work.at), work.kind, work.code, work.by, work.region, work.warehouse)
    quantity = str(work.quantity)
    priced = terms.memo.get((key, quantity))
    if priced is None:
        terms_of_line = terms.memo.get(key)
        if terms_of_line is None:
            terms_of_line = terms.memo[key] = _terms_of_line(terms, work)
        priced = terms.memo[key, quantity] = {**terms_of_line, **_amounts(terms_of_line, work.quantity)}
    return {"id": work.line_id, "source": work.source, "at": work.at.isoformat(), **priced}


def _terms_of_line(terms: Terms, work: Work) -> dict[str, Any]:
    when = work.at
    item = terms.catalogue.item(work.kind, work.code, when)
    region = terms.regions.region(work.region, when) if work.region else None
    technician = terms.parties.technician(work.by, when)
    choice = choose_tier(terms.prices, region, technician, work.code, when)
    return {
        "kind": work.kind,
        "code": work.code,
        "name": item.name if item else None,
        "unit": item.unit if item else None,
        "category": item.category if item else None,
        "technician": work.by,
        "party": technician.party,
        "mode": technician.mode,
        "region": region.code if region else None,
        "currency": region.currency if region else None,
        "tier": choice.tier.name if choice.tier else None,
        "why": choice.why,
        "priced": choice.unit_price is not None,
        "unit_price": None if choice.unit_price is None else str(choice.unit_price),
        "tax_rate": str(region.tax_rate(item.category if item else None)) if region else None,
        "tax_inclusive": region.tax_inclusive if region else None,
        "payout_rule": _payout_rule(terms.prices, choice.tier, item, work, when),
        "warehouse": work.warehouse,
        "cost_region": _cost_region(terms, work.kind, region, technician, work.warehouse, when),
    }


def returned(consumed: dict[str, Any], work: Work, terms: Terms) -> dict[str, Any]:
    """A return credited as `consumed` (the ticket's latest consumption of the part) was charged."""
    technician = terms.parties.technician(work.by, work.at)
    line = {
        **consumed,
        "id": work.line_id,
        "source": work.source,
        "at": work.at.isoformat(),
        "technician": work.by,
        "party": technician.party,
        "mode": technician.mode,
        "warehouse": work.warehouse,
        "why": f"退回：按本工单 {consumed['at'][:19]} 领用时的价格冲减（{consumed['why']}）",
    }
    return charged(line, work.quantity)


def charged(line: dict[str, Any], quantity: Decimal) -> dict[str, Any]:
    """`line` with its amounts and payout worked out for `quantity`."""
    return {**line, **_amounts(line, quantity)}


def _amounts(line: dict[str, Any], quantity: Decimal) -> dict[str, str]:
    """The quantity, amounts and payout of `quantity` of what `line` prices."""
    currency = line["currency"]
    net = tax = gross = zero(currency)
    if line["priced"]:
        unit, rate = Decimal(line["unit_price"]), Decimal(line["tax_rate"])
        if line["tax_inclusive"]:
            gross = rounded(quantity * unit, currency)
            tax = rounded(gross * rate / (1 + rate), currency)
            net = gross - tax
        else:
            net = rounded(quantity * unit, currency)
            tax = rounded(net * rate, currency)
            gross = net + tax
    payout = _pay(line["payout_rule"], net, quantity, currency) if line["priced"] else zero(currency)
    return {"quantity": str(quantity), "net": str(net), "tax": str(tax), "gross": str(gross), "payout": str(payout)}


def choose_tier(prices: PriceBook, region: Region | None, technician: Technician, code: str, when: datetime) -> Choice:
    if region is None:
        return Choice(None, None, "没有结算区域覆盖工单所在地区，也没有覆盖 * 的区域")
    mode = technician.mode
    unknown = "" if technician.known else f"；{technician.staff} 未登记，按直营计"
    who = f"合作模式 {mode}"
    matching = sorted(
        (t for t in prices.tiers(when) if t.currency == region.currency and t.matches(region.code, region.tier, mode)),
        key=lambda t: (tuple(not s for s in t.specificity), t.name),
    )
    for i, tier in enumerate(matching):
        unit = prices.price(tier.name, code, when)
        if unit is not None:
            passed = "" if i == 0 else f"；更具体的 {'、'.join(t.name for t in matching[:i])} 没有 {code} 的价格"
            return Choice(tier, unit, f"按档位 {tier.name}（{tier.selectors()}）{passed}{unknown}")
    tried = [t.name for t in matching]
    missing = (
        f"相符的档位 {'、'.join(tried)} 都没有 {code} 的价格"
        if tried
        else f"没有与区域 {region.code}（区域档位 {region.tier}，{region.currency}）、{who} 相符的档位"
    )
    for name in prices.fallback(when):
        tier = prices.tier(name, when)
        if tier is None or tier.currency != region.currency or name in tried:
            continue
        unit = prices.price(name, code, when)
        if unit is not None:
            return Choice(tier, unit, f"回退：{missing}，按回退顺序用档位 {name}{unknown}")
    order = "、".join(prices.fallback(when)) or "未设置"
    return Choice(
        None, None, f"未定价：{missing}，回退顺序（{order}）中也没有 {region.currency} 的 {code} 价格{unknown}"
    )


def _payout_rule(
    prices: PriceBook, tier: Tier | None, item: Item | None, work: Work, when: datetime
) -> dict[str, str] | None:
    rules = prices.payout_rules(tier.name, when) if tier else None
    found = rules.rule_for(work.code, item.category if item else None, work.kind) if rules else None
    if found is None:
        return None
    key, rule = found
    hours = item.standard_hours if item and rule.basis == "hourly" else None
    return {"key": key, **rule.to_dict(), **({"standard_hours": str(hours)} if hours is not None else {})}


def _pay(rule: dict[str, str] | None, net: Decimal, quantity: Decimal, currency: str) -> Decimal:
    if rule is None:
        return zero(currency)
    value = Decimal(rule["value"])
    if rule["basis"] == "fixed":
        return rounded(value * quantity, currency)
    if rule["basis"] == "percent":
        return rounded(net * value / 100, currency)
    hours = rule.get("standard_hours")
    return rounded(value * Decimal(hours) * quantity, currency) if hours is not None else zero(currency)


def warehouse_for(terms: Terms, region: str | None, by: str, when: datetime) -> str | None:
    """Where the parts `by` uses come from: their own warehouse, else the main one of the ticket's region."""
    main = terms.regions.main_warehouse(region, when) if region else None
    return terms.parties.technician(by, when).warehouse or (main.code if main else None)


def _cost_region(
    terms: Terms, kind: str, region: Region | None, technician: Technician, warehouse: str | None, when: datetime
) -> str | None:
    bearer = terms.regions.cost_rules(when).bearer(kind)
    if bearer == "technician" and technician.home_region:
        return technician.home_region
    if bearer == "warehouse" and warehouse and (found := terms.regions.warehouse(warehouse, when)):
        return found.region
    return region.code if region else None
