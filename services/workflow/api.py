"""Workflow's HTTP adapter: tickets and the staff actions on them."""

from __future__ import annotations

from uuid import UUID

from flask import Flask, jsonify, request
from marshmallow import Schema, fields, validate

from shared import web
from shared.contracts import Item
from shared.errors import DomainError
from shared.views import plain, timeline_entry

from services.workflow.application import WorkflowApplication
from services.workflow.domain import Ticket

STAFF_HEADER = "X-Staff-Id"


class ItemsBody(Schema):
    items = fields.List(fields.Nested(Item), required=True, validate=validate.Length(min=1, max=200))


class TicketView(Schema):
    id = fields.UUID()
    tenant = fields.String()
    template = fields.String()
    node = fields.String()
    handler = fields.String()
    closed = fields.Boolean()
    history = fields.List(fields.Dict())


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"


def _staff() -> str:
    staff = request.headers.get(STAFF_HEADER, "").strip()
    if not staff:
        raise Unauthenticated(f"say who is acting in the {STAFF_HEADER} header")
    return staff


def _view(ticket: Ticket, history: list | None = None) -> dict:
    view = {"id": str(ticket.id), "tenant": ticket.tenant, "template": ticket.template,
            "template_version": ticket.template_version, "node": ticket.node, "handler": ticket.handler,
            "closed": ticket.closed, "channel": ticket.channel, "customer": plain(ticket.customer),
            "description": ticket.description, "version": ticket.version}
    if history is not None:
        view["history"] = [timeline_entry(e) for e in history]
    return view


def create_app(workflow: WorkflowApplication) -> Flask:
    app = web.create_app("workflow", "SCRM workflow API")
    base = "/v1/tenants/<tenant>/tickets/<uuid:ticket_id>"
    doc = "/v1/tenants/{tenant}/tickets/{ticket_id}"

    @app.get(base)
    def ticket(tenant: str, ticket_id: UUID):
        return jsonify(_view(workflow.ticket(ticket_id, tenant), workflow.history(ticket_id, tenant)))

    web.document(app, "get", doc, "A ticket with its history", responses={200: TicketView, 404: "Not found"})

    actions = {"parts": workflow.consume_parts, "labour": workflow.record_labour}

    @app.post(base + "/<any(parts, labour):what>")
    def record_items(tenant: str, ticket_id: UUID, what: str):
        staff = _staff()
        body = web.json_body(ItemsBody())
        return jsonify(_view(actions[what](tenant, ticket_id, staff, body["items"]))), 201

    for what, summary in (("parts", "Record spare parts consumed"), ("labour", "Record labour / service items")):
        web.document(app, "post", f"{doc}/{what}", summary, body=ItemsBody,
                     responses={201: TicketView, 400: "Invalid items", 401: "No staff id",
                                403: "Not the handler", 409: "Closed or changed meanwhile"})

    @app.post(base + "/close")
    def close(tenant: str, ticket_id: UUID):
        return jsonify(_view(workflow.close_ticket(tenant, ticket_id, _staff())))

    web.document(app, "post", f"{doc}/close", "Close the ticket (move to the last node)",
                 responses={200: TicketView, 401: "No staff id", 403: "Not the handler", 409: "Already closed"})
    return app
