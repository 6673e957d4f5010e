"""Notify's read-only HTTP adapter: what was owed and sent for a ticket."""

from __future__ import annotations

from uuid import UUID

from flask import Flask, jsonify
from marshmallow import Schema, fields

from shared import web
from shared.identity.guard import Identity
from shared.views import plain

from services.notify.application import NotifyApplication


class DeliveryView(Schema):
    delivery_id = fields.UUID()
    cause = fields.UUID()
    channel = fields.String()
    recipient = fields.String()
    message = fields.String()
    made_at = fields.DateTime(allow_none=True)


class Deliveries(Schema):
    deliveries = fields.List(fields.Nested(DeliveryView))


def create_app(notify: NotifyApplication, identity: Identity) -> Flask:
    app = web.create_app("notify", "SCRM notify API", identity)

    @app.get("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>/deliveries")
    def deliveries(tenant: str, ticket_id: UUID):
        return jsonify(deliveries=plain(notify.deliveries(tenant, ticket_id)))

    web.document(app, "get", "/v1/tenants/{tenant}/tickets/{ticket_id}/deliveries",
                 "Deliveries owed and made for a ticket", responses={200: Deliveries})
    return app
