"""Settlement's HTTP adapter: statements and the price book."""

from __future__ import annotations

from uuid import UUID

from flask import Flask, jsonify
from marshmallow import Schema, fields

from shared import web
from shared.identity.guard import Identity
from shared.contracts import StatementLine
from shared.views import plain

from services.settlement.application import SettlementApplication


class StatementView(Schema):
    ticket_id = fields.UUID()
    technician = fields.String()
    currency = fields.String()
    lines = fields.List(fields.Nested(StatementLine))
    subtotal = fields.Decimal(as_string=True)
    tax = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True)
    payout = fields.Decimal(as_string=True)


def create_app(settlement: SettlementApplication, identity: Identity) -> Flask:
    app = web.create_app("settlement", "SCRM settlement API", identity)

    @app.get("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>/statement")
    def statement(tenant: str, ticket_id: UUID):
        return jsonify(plain(settlement.statement(tenant, ticket_id)))

    web.document(app, "get", "/v1/tenants/{tenant}/tickets/{ticket_id}/statement",
                 "The ticket's statement and technician payout", responses={200: StatementView, 404: "Not issued"})

    @app.get("/v1/price-book")
    def price_book():
        book = settlement.book
        return jsonify(plain({"currency": book.currency, "tax_rate": book.tax_rate, "parts": book.parts,
                              "labour": book.labour, "payout_share": book.payout_share}))

    web.document(app, "get", "/v1/price-book", "The built-in price book", responses={200: "Prices"})
    return app
