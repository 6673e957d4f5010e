"""The REST API for customers (客户) and their opportunities (商机), for the console and other
systems; every call needs one of the tenant's API keys (see auth.py)."""

from __future__ import annotations

from uuid import UUID, uuid4

from flask import Flask, jsonify, request
from marshmallow import Schema, fields, validate

from shared import web
from shared.contracts import Customer as CustomerData
from shared.contracts import ticket_number
from shared.errors import Invalid

from services.intake.application import IntakeApplication
from services.intake.customers import IDENTITIES, Customer
from services.intake.opportunities import STAGES

_who = {"required": True, "validate": validate.Length(min=1, max=64),
        "metadata": {"description": "The staff member (or system) doing it"}}
BASE = "/v1/tenants/{tenant}/customers"
DENIED = {401: "No valid API key of this tenant"}


class OpportunityIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(as_string=True, allow_none=True)
    stage = fields.String(load_default=STAGES[0], validate=validate.OneOf(STAGES))
    by = fields.String(**_who)
    opportunity_id = fields.String(validate=validate.Length(min=1, max=64),
                                   metadata={"description": "Yours, to make a retry harmless; else one is made"})


class StageIn(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    by = fields.String(**_who)


class WonIn(Schema):
    by = fields.String(**_who)


class LostIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    by = fields.String(**_who)


class OpportunityView(Schema):
    id = fields.String()
    title = fields.String()
    amount = fields.String(allow_none=True)
    stage = fields.String()
    open = fields.Boolean()
    reason = fields.String()


class CustomerView(Schema):
    customer_id = fields.UUID()
    identities = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    profile = fields.Dict(keys=fields.String(), values=fields.String())
    first_channel = fields.String()
    tickets = fields.List(fields.Dict(), metadata={"description": "Linked tickets, oldest first, with their status"})
    opportunities = fields.List(fields.Nested(OpportunityView))
    kept = fields.List(fields.Dict(), metadata={"description": "Images and locations sent with no ticket open"})
    proposed = fields.List(fields.Dict(), metadata={
        "description": "Details a submission gave that differ from the profile (ticket_id, channel, profile): never "
                       "applied by themselves; staff accept one by registering the customer with those details"})
    merged_from = fields.List(fields.UUID(), metadata={"description": "Customers found to be this one, merged in"})


def customer_view(customer: Customer) -> dict:
    return {"customer_id": str(customer.id), "identities": customer.identities, "profile": customer.profile,
            "first_channel": customer.channel,
            "tickets": [{**t.to_dict(), "number": ticket_number(t.ticket_id)} for t in customer.tickets.values()],
            "opportunities": [o.to_dict() for o in customer.opportunities.values()],
            "kept": [media_view(m) for m in customer.media if m["ticket_id"] is None],
            "proposed": [media_view(p) for p in customer.pending_proposals],
            "merged_from": [str(c) for c in customer.merged_from]}


def media_view(media: dict) -> dict:
    return {k: (str(v) if isinstance(v, UUID) else v) for k, v in media.items() if v is not None}


def register(app: Flask, intake: IntakeApplication) -> None:
    directory = intake.customers

    @app.post("/v1/tenants/<tenant>/customers")
    def register_customer(tenant: str):
        contact = directory.register(tenant, "api", web.json_body(CustomerData()))
        return jsonify(customer_view(contact.customer)), 201 if contact.first else 200

    @app.get("/v1/tenants/<tenant>/customers")
    def find_customer(tenant: str):
        kind, value = request.args.get("kind", ""), request.args.get("value", "")
        if kind not in IDENTITIES or not 0 < len(value) <= 500:
            raise Invalid(f"look up by ?kind=<{'|'.join(IDENTITIES)}>&value=<the identity>")
        return jsonify(customer_view(directory.by_identity(tenant, kind, value)))

    @app.get("/v1/tenants/<tenant>/customers/<uuid:customer_id>")
    def show_customer(tenant: str, customer_id: UUID):
        return jsonify(customer_view(directory.get(tenant, customer_id)))

    @app.post("/v1/tenants/<tenant>/customers/<uuid:customer_id>/opportunities")
    def create_opportunity(tenant: str, customer_id: UUID):
        body = web.json_body(OpportunityIn())
        opportunity_id = body.get("opportunity_id") or str(uuid4())
        amount = body.get("amount")
        customer, _ = directory.change(tenant, customer_id, lambda c: c.create_opportunity(
            opportunity_id, body["title"], None if amount is None else str(amount), body["stage"], body["by"]))
        return jsonify(customer.opportunities[opportunity_id].to_dict()), 201

    def _moved(tenant: str, customer_id: UUID, opportunity_id: str, move) -> tuple:
        customer, _ = directory.change(tenant, customer_id, move)
        return jsonify(customer.opportunities[opportunity_id].to_dict()), 200

    @app.patch("/v1/tenants/<tenant>/customers/<uuid:customer_id>/opportunities/<opportunity_id>")
    def move_opportunity(tenant: str, customer_id: UUID, opportunity_id: str):
        body = web.json_body(StageIn())
        return _moved(tenant, customer_id, opportunity_id,
                      lambda c: c.move_opportunity(opportunity_id, body["stage"], body["by"]))

    @app.post("/v1/tenants/<tenant>/customers/<uuid:customer_id>/opportunities/<opportunity_id>/win")
    def win_opportunity(tenant: str, customer_id: UUID, opportunity_id: str):
        body = web.json_body(WonIn())
        return _moved(tenant, customer_id, opportunity_id, lambda c: c.win_opportunity(opportunity_id, body["by"]))

    @app.post("/v1/tenants/<tenant>/customers/<uuid:customer_id>/opportunities/<opportunity_id>/lose")
    def lose_opportunity(tenant: str, customer_id: UUID, opportunity_id: str):
        body = web.json_body(LostIn())
        return _moved(tenant, customer_id, opportunity_id,
                      lambda c: c.lose_opportunity(opportunity_id, body["reason"], body["by"]))

    _document(app)


def _document(app: Flask) -> None:
    one, opportunity = f"{BASE}/{{customer_id}}", f"{BASE}/{{customer_id}}/opportunities/{{opportunity_id}}"
    for method, path, summary, body, responses in (
        ("post", BASE, "Register a customer, or add identities and details to the one they already are; "
         "identities of two customers merge them into the one the unionid (else the phone) names",
         CustomerData, {201: CustomerView, 200: "Already known: that customer (merged, if it was two)",
                        400: "Invalid fields"}),
        ("get", BASE, "Look a customer up by one identity: ?kind=phone&value=...", None,
         {200: CustomerView, 400: "No kind or value", 404: "No customer has it"}),
        ("get", one, "A customer: identities, details, tickets, opportunities", None,
         {200: CustomerView, 404: "Not found"}),
        ("post", f"{one}/opportunities", "Open an opportunity (商机) for the customer", OpportunityIn,
         {201: OpportunityView, 400: "Invalid fields", 404: "No such customer"}),
        ("patch", opportunity, "Move an open opportunity to another stage", StageIn,
         {200: OpportunityView, 404: "Not found", 409: "Already won or lost"}),
        ("post", f"{opportunity}/win", "The opportunity was won", WonIn,
         {200: OpportunityView, 404: "Not found", 409: "Already won or lost"}),
        ("post", f"{opportunity}/lose", "The opportunity was lost, and why", LostIn,
         {200: OpportunityView, 404: "Not found", 409: "Already won or lost"}),
    ):
        web.document(app, method, path, summary, body=body, responses={**responses, **DENIED})
