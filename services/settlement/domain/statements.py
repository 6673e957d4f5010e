"""A statement (结算单) from priced lines, and its reversal. Pure functions.

A statement lists every line of the ticket with its amounts, the ticket's adjustments, and totals
that are sums of the lines: net, tax and gross; the payout per technician (their lines' payouts
and adjustments); totals per party (the dealer or partner who did the work, or the tenant's own
staff); and the net cost per region (cost attribution). A reversal is the statement with every
amount negated, so the two sum to zero line by line.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from collections.abc import Iterable

from services.settlement.domain.ids import derived, namespace
from services.settlement.domain.money import negated, zero
from services.settlement.domain.pricebook import PriceBook
from services.settlement.domain.regions import Region

_ADJUSTMENT_IDS = namespace("2b8e6d4c-9a1f-4c3e-b7d5-6e4f3a2b1c90")
AMOUNTS = ("net", "tax", "gross", "payout")  # of a line; an adjustment has "amount"


def statement(
    kind: str,
    statement_id: str,
    number: int,
    ticket_id: str,
    issued_at: datetime,
    cause: str,
    region: str | None,
    lines: list[dict[str, Any]],
    adjustments: list[dict[str, Any]],
) -> dict[str, Any]:
    """`kind` is "statement" (issued at close) or "provisional" (the ticket is still open)."""
    currency = next((x["currency"] for x in [*lines, *adjustments] if x["currency"]), None)
    nothing = zero(currency)
    totals = Sums(nothing, 4)  # net, tax, gross, payout
    technicians: dict[str, Sums] = {}  # their lines' payouts, their adjustments
    parties: dict[str | None, Sums] = {}  # net, tax, gross
    regions: dict[str | None, Sums] = {}  # net
    party_of: dict[str, str | None] = {}
    for line in lines:
        net, tax, gross, payout = (Decimal(line[n]) for n in AMOUNTS)
        totals.add(net, tax, gross, payout)
        Sums.of(technicians, line["technician"], nothing, 2).add(payout)
        Sums.of(parties, line["party"], nothing, 3).add(net, tax, gross)
        Sums.of(regions, line["cost_region"], nothing, 1).add(net)
        party_of[line["technician"]] = line["party"]
    for a in adjustments:
        amount = Decimal(a["amount"])
        totals.values[3] += amount
        Sums.of(technicians, a["technician"], nothing, 2).values[1] += amount
        party_of[a["technician"]] = a["party"]
    net, tax, gross, payout = totals.text()
    return {
        "id": statement_id,
        "number": number,
        "kind": kind,
        "reverses": None,
        "ticket_id": ticket_id,
        "issued_at": issued_at.isoformat(),
        "cause": cause,
        "region": region,
        "currency": currency,
        "lines": lines,
        "adjustments": adjustments,
        "net": net,
        "tax": tax,
        "gross": gross,
        "payout": payout,
        "payouts": [
            {
                "technician": t,
                "party": party_of[t],
                "lines": earned.text()[0],
                "adjustments": earned.text()[1],
                "total": str(sum(earned.values)),
            }
            for t, earned in sorted(technicians.items())
        ],
        "parties": [
            dict(zip(("party", "net", "tax", "gross"), (p, *sums.text())))
            for p, sums in sorted(parties.items(), key=lambda kv: kv[0] or "")
        ],
        "cost_split": [
            {"region": r, "net": sums.text()[0]} for r, sums in sorted(regions.items(), key=lambda kv: kv[0] or "")
        ],
        "unpriced": sum(1 for line in lines if not line["priced"]),
    }


class Sums:
    """Running sums of a few amounts, from a zero in the statement's currency (so "0.00", not "0")."""

    __slots__ = ("values",)

    def __init__(self, start: Decimal, count: int):
        self.values = [start] * count

    @classmethod
    def of(cls, table: dict[Any, Sums], key: Any, start: Decimal, count: int) -> Sums:
        """`table`'s sums for `key`, new ones the first time."""
        found = table.get(key)
        if found is None:
            found = table[key] = cls(start, count)
        return found

    def add(self, *amounts: Decimal) -> None:
        """Adds to the first len(amounts) sums."""
        values = self.values
        for i, amount in enumerate(amounts):
            values[i] += amount

    def text(self) -> list[str]:
        return [str(v) for v in self.values]


def reversal(issued: dict[str, Any], reversal_id: str, number: int, at: datetime, cause: str) -> dict[str, Any]:
    """`issued` with every amount negated, naming the statement it reverses."""

    def minus(record: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
        return {**record, **{n: str(negated(Decimal(record[n]))) for n in names}}

    return {
        **minus(issued, ("net", "tax", "gross", "payout")),
        "id": reversal_id,
        "number": number,
        "kind": "reversal",
        "reverses": issued["id"],
        "issued_at": at.isoformat(),
        "cause": cause,
        "lines": [minus(line, ("quantity",) + AMOUNTS) for line in issued["lines"]],
        "adjustments": [minus(a, ("amount",)) for a in issued["adjustments"]],
        "payouts": [minus(p, ("lines", "adjustments", "total")) for p in issued["payouts"]],
        "parties": [minus(p, ("net", "tax", "gross")) for p in issued["parties"]],
        "cost_split": [minus(c, ("net",)) for c in issued["cost_split"]],
    }


def adjustments(
    prices: PriceBook,
    region: Region | None,
    lines: list[dict[str, Any]],
    sla_met: int,
    sla_missed: int,
    at: datetime,
    cause: str,
) -> list[dict[str, Any]]:
    """The ticket's adjustments at close, under its lead technician's tier (the one who recorded
    the first labour line, else the first line): the remote-area surcharge, the SLA-met bonus
    (a target met and none missed) or the SLA-missed penalty."""
    lead = next((x for x in lines if x["kind"] == "labour"), lines[0] if lines else None)
    priced = next((x for x in lines if x["technician"] == (lead or {}).get("technician") and x["tier"]), None)
    rules = prices.payout_rules(priced["tier"], at) if priced else None
    if rules is None or region is None:
        return []
    found = []
    if region.remote and rules.remote_surcharge:
        found.append(("remote_surcharge", rules.remote_surcharge, f"偏远地区补贴：区域 {region.code} 为偏远地区"))
    if sla_met and not sla_missed and rules.sla_met_bonus:
        found.append(("sla_met_bonus", rules.sla_met_bonus, f"时效奖励：{sla_met} 项时效全部按时达成"))
    if sla_missed and rules.sla_missed_penalty:
        found.append(("sla_missed_penalty", negated(rules.sla_missed_penalty), f"时效扣款：{sla_missed} 项时效超时"))
    return [
        {
            "id": derived(_ADJUSTMENT_IDS, f"{cause}:{kind}"),
            "kind": kind,
            "technician": lead["technician"],
            "party": lead["party"],
            "tier": priced["tier"],
            "currency": region.currency,
            "amount": str(amount),
            "why": f"{why}（档位 {priced['tier']} 的规则）",
        }
        for kind, amount, why in found
    ]
