"""A ticket's settlement: its ledger (provisional settlement, statements, reversals) for finance, and
each technician's earnings on it (收益), which the technician sees in the ticket before it closes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from marshmallow import Schema, fields

from shared.contracts import SettlementDocument
from shared.errors import NotFound
from shared.restapi import Blueprint

from services.settlement.api.identity import earnings_of, finance
from services.settlement.api.schemas import EarningsView, LedgerView
from services.settlement.application import SettlementApplication
from services.settlement.domain.money import total

BASE = "/v1/tenants/<tenant>/tickets/<uuid:ticket_id>"


class Whose(Schema):
    technician = fields.String(load_default=None, metadata={"description": "Default: the caller (finance: anyone)"})


def blueprint(settlement: SettlementApplication) -> Blueprint:
    blp = Blueprint("tickets", __name__, description="A ticket's settlement and its technicians' earnings")

    @blp.route(BASE + "/settlement", methods=["GET"])
    @blp.response(200, LedgerView)
    def ledger(tenant: str, ticket_id: UUID):
        """Provisional settlement while open; every statement and reversal (finance, admin)"""
        finance()
        found = settlement.ledger(tenant, ticket_id)
        return {
            "ticket_id": ticket_id,
            "region": found.region,
            "status": "open" if found.in_force is None else "settled",
            "provisional": settlement.provisional(found),
            "statements": found.statements,
        }

    @blp.route(BASE + "/statement", methods=["GET"])
    @blp.response(200, SettlementDocument)
    def statement(tenant: str, ticket_id: UUID):
        """The statement in force (finance, admin); 404 while the ticket is open"""
        finance()
        issued = settlement.ledger(tenant, ticket_id).in_force
        if issued is None:
            raise NotFound("no statement in force for this ticket (it is issued when the ticket closes)")
        return issued

    @blp.route(BASE + "/earnings", methods=["GET"])
    @blp.arguments(Whose, location="query")
    @blp.response(200, EarningsView)
    def earnings(query: dict, tenant: str, ticket_id: UUID):
        """A technician's earnings on the ticket: provisional while open, then per statement and reversal"""
        _, technician = earnings_of(query["technician"])
        found = settlement.ledger(tenant, ticket_id)
        provisional = settlement.provisional(found)
        settled = [_share(d, technician) for d in found.statements]
        return {
            "ticket_id": ticket_id,
            "technician": technician,
            "status": "open" if found.in_force is None else "settled",
            "provisional": _share(provisional, technician) if provisional else None,
            "settled": settled,
            "settled_total": total((Decimal(s["payout"]) for s in settled), None),
        }

    return blp


def _share(document: dict[str, Any], technician: str) -> dict[str, Any]:
    """What `technician` earns in one statement, reversal or provisional settlement: lines and adjustments."""
    lines = [
        {
            "line": x["id"],
            "code": x["code"],
            "name": x["name"],
            "quantity": x["quantity"],
            "payout": x["payout"],
            "rule": x["payout_rule"],
            "why": x["why"],
        }
        for x in document["lines"]
        if x["technician"] == technician
    ]
    lines += [
        {
            "line": a["id"],
            "code": a["kind"],
            "name": a["why"],
            "quantity": "1",
            "payout": a["amount"],
            "rule": None,
            "why": a["why"],
        }
        for a in document["adjustments"]
        if a["technician"] == technician
    ]
    return {
        "document": document["id"] or None,
        "number": document["number"] or None,
        "kind": document["kind"],
        "issued_at": document["issued_at"] if document["kind"] != "provisional" else None,
        "currency": document["currency"],
        "lines": lines,
        "payout": total((Decimal(x["payout"]) for x in lines), document["currency"]),
    }
