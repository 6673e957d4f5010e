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
    net = tax = gross = payout = nothing
    earned: dict[str, list[Decimal]] = {}  # technician -> their lines' payouts, their adjustments
    parties: dict[str | None, list[Decimal]] = {}  # party -> net, tax, gross
    regions: dict[str | None, Decimal] = {}  # cost region -> net
    party_of: dict[str, str | None] = {}
    for line in lines:  # the hot loop of a backlog: plain sums, no helper per amount
        n, t, g, p = Decimal(line["net"]), Decimal(line["tax"]), Decimal(line["gross"]), Decimal(line["payout"])
        net, tax, gross, payout = net + n, tax + t, gross + g, payout + p
        earned.setdefault(line["technician"], [nothing, nothing])[0] += p
        before = parties.get(line["party"], (nothing, nothing, nothing))
        parties[line["party"]] = [before[0] + n, before[1] + t, before[2] + g]
        regions[line["cost_region"]] = regions.get(line["cost_region"], nothing) + n
        party_of[line["technician"]] = line["party"]
    for a in adjustments:
        amount = Decimal(a["amount"])
        payout += amount
        earned.setdefault(a["technician"], [nothing, nothing])[1] += amount
        party_of[a["technician"]] = a["party"]
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
        "net": str(net),
        "tax": str(tax),
        "gross": str(gross),
        "payout": str(payout),
        "payouts": [
            {
                "technician": t,
                "party": party_of[t],
                "lines": str(lines_),
                "adjustments": str(extra),
                "total": str(lines_ + extra),
            }
            for t, (lines_, extra) in sorted(earned.items())
        ],
        "parties": [
            {"party": p, "net": str(n), "tax": str(t), "gross": str(g)}
            for p, (n, t, g) in sorted(parties.items(), key=lambda kv: kv[0] or "")
        ],
        "cost_split": [{"region": r, "net": str(n)} for r, n in sorted(regions.items(), key=lambda kv: kv[0] or "")],
        "unpriced": sum(1 for line in lines if not line["priced"]),
    }


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
