"""Statements for a period (对账单): per technician, per party (dealer or partner) or per region,
from the statements and reversals issued in it. A pure function of those documents.

Every row is one line (or one adjustment) of one document, with the ticket, the line and the
event it came from. A technician's rows are their lines and adjustments; a party's, those of its
technicians; a region's, the lines whose cost it bears (cost attribution) and the adjustments of
tickets settled in it. Amounts stay in their own currency, totals per currency; or every row is
converted at the rate in force when its document was issued (net and tax rounded half-up to the
target currency's minor unit, gross = net + tax, payout rounded), totals in that one currency.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from collections.abc import Callable, Iterable
from uuid import UUID

from shared.contracts import ticket_number
from shared.errors import Conflict, Invalid

from services.settlement.domain.money import ZERO, rounded, total

VIEWS = ("technician", "party", "region")
AMOUNTS = ("net", "tax", "gross", "payout")
Rate = Callable[[str, str, datetime], Decimal | None]  # (from, to, when) -> rate


def period_statement(
    documents: Iterable[dict[str, Any]],
    view: str,
    who: str,
    start: datetime,
    end: datetime,
    currency: str | None = None,
    rate: Rate | None = None,
) -> dict[str, Any]:
    if view not in VIEWS:
        raise Invalid(f"a period statement is per {', '.join(VIEWS)}")
    if not start < end:
        raise Invalid("the period ends after it starts")
    chosen = [d for d in documents if start <= datetime.fromisoformat(d["issued_at"]) < end]
    rows = [row for d in sorted(chosen, key=lambda d: (d["issued_at"], d["id"])) for row in _rows(d, view, who)]
    if currency is not None:
        rows = [_converted(row, currency, rate) for row in rows]
    return {
        "view": view,
        "who": who,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "currency": currency,
        "rows": rows,
        "totals": _totals(rows),
    }


def _rows(document: dict[str, Any], view: str, who: str) -> list[dict[str, Any]]:
    head = {
        "document": document["id"],
        "number": document["number"],
        "document_kind": document["kind"],
        "issued_at": document["issued_at"],
        "ticket_id": document["ticket_id"],
        "ticket_number": ticket_number(UUID(document["ticket_id"])),
    }
    wanted = {"technician": "technician", "party": "party", "region": "cost_region"}[view]
    rows = [
        {
            **head,
            "entry": "line",
            "line": x["id"],
            "source": x["source"],
            "at": x["at"],
            "kind": x["kind"],
            "code": x["code"],
            "name": x["name"],
            "quantity": x["quantity"],
            "unit_price": x["unit_price"],
            "tier": x["tier"],
            "technician": x["technician"],
            "party": x["party"],
            "region": x["cost_region"],
            "currency": x["currency"],
            **{n: x[n] for n in AMOUNTS},
        }
        for x in document["lines"]
        if x[wanted] == who
    ]
    for a in document["adjustments"]:
        if (a["technician"], a["party"], document["region"])[VIEWS.index(view)] == who:
            zero = str(rounded(ZERO, a["currency"]))
            rows.append(
                {
                    **head,
                    "entry": "adjustment",
                    "line": a["id"],
                    "source": document["cause"],
                    "at": document["issued_at"],
                    "kind": a["kind"],
                    "code": a["kind"],
                    "name": a["why"],
                    "quantity": "1",
                    "unit_price": None,
                    "tier": a["tier"],
                    "technician": a["technician"],
                    "party": a["party"],
                    "region": document["region"],
                    "currency": a["currency"],
                    "net": zero,
                    "tax": zero,
                    "gross": zero,
                    "payout": a["amount"],
                }
            )
    return rows


def _converted(row: dict[str, Any], currency: str, rate: Rate | None) -> dict[str, Any]:
    source = row["currency"]
    if source is None:  # an unpriced line settles nothing, in any currency
        return {**row, "currency": currency, "from_currency": None, "rate": None}
    when = datetime.fromisoformat(row["issued_at"])
    found = rate(source, currency, when) if rate else None
    if found is None:
        raise Conflict(
            f"no exchange rate {source}/{currency} in force on {when:%Y-%m-%d %H:%M} UTC "
            f"(statement {row['document']}): set one first",
            base=source,
            quote=currency,
        )
    net, tax = (rounded(Decimal(row[n]) * found, currency) for n in ("net", "tax"))
    return {
        **row,
        "currency": currency,
        "from_currency": source,
        "rate": str(found),
        **{f"original_{n}": row[n] for n in AMOUNTS},
        "net": str(net),
        "tax": str(tax),
        "gross": str(net + tax),
        "payout": str(rounded(Decimal(row["payout"]) * found, currency)),
    }


def _totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    currencies = sorted({r["currency"] for r in rows if r["currency"]})
    return [
        {
            "currency": c,
            "rows": sum(1 for r in rows if r["currency"] == c),
            **{n: str(total((Decimal(r[n]) for r in rows if r["currency"] == c), c)) for n in AMOUNTS},
        }
        for c in currencies
    ]
