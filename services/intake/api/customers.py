"""The REST API for customers (客户) and their opportunities (商机), for the console and other
systems."""

from __future__ import annotations

from uuid import UUID, uuid4

from marshmallow import Schema, fields, validate

from shared.contracts import FLAG, ticket_number
from shared.contracts import Customer as CustomerData
from shared.restapi import Blueprint

from services.intake.application import IntakeApplication
from services.intake.customers import IDENTITIES, Customer
from services.intake.flags import MOST
from services.intake.opportunities import STAGES

_who = {
    "required": True,
    "validate": validate.Length(min=1, max=64),
    "metadata": {"description": "The staff member (or system) doing it"},
}
BASE = "/v1/tenants/<tenant>/customers"


class OpportunityIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(as_string=True, allow_none=True)
    stage = fields.String(load_default=STAGES[0], validate=validate.OneOf(STAGES))
    by = fields.String(**_who)
    opportunity_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Yours, to make a retry harmless; else one is made"},
    )


class StageIn(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    by = fields.String(**_who)


class WonIn(Schema):
    by = fields.String(**_who)


class LostIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    by = fields.String(**_who)


class FlagsIn(Schema):
    flags = fields.List(
        fields.String(validate=FLAG),
        required=True,
        validate=validate.Length(max=MOST),
        metadata={"description": "Every flag the customer has from now on (vip: workflow's priority VIP)"},
    )
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
    flags = fields.List(
        fields.String(), metadata={"description": "What staff marked them as (vip …); every new ticket carries it"}
    )
    first_channel = fields.String()
    tickets = fields.List(fields.Dict(), metadata={"description": "Linked tickets, oldest first, with their status"})
    opportunities = fields.List(fields.Nested(OpportunityView))
    kept = fields.List(fields.Dict(), metadata={"description": "Images and locations sent with no ticket open"})
    proposed = fields.List(
        fields.Dict(),
        metadata={
            "description": "Details a submission gave that differ from the profile (ticket_id, channel, profile): never "
            "applied by themselves; staff accept one by registering the customer with those details"
        },
    )
    merged_from = fields.List(fields.UUID(), metadata={"description": "Customers found to be this one, merged in"})


def customer_view(customer: Customer, flags: list[str]) -> dict:
    return {
        "customer_id": str(customer.id),
        "identities": customer.identities,
        "profile": customer.profile,
        "flags": flags,
        "first_channel": customer.channel,
        "tickets": [{**t.to_dict(), "number": ticket_number(t.ticket_id)} for t in customer.tickets.values()],
        "opportunities": [o.to_dict() for o in customer.opportunities.values()],
        "kept": [media_view(m) for m in customer.media if m["ticket_id"] is None],
        "proposed": [media_view(p) for p in customer.pending_proposals],
        "merged_from": [str(c) for c in customer.merged_from],
    }


def media_view(media: dict) -> dict:
    return {k: (str(v) if isinstance(v, UUID) else v) for k, v in media.items() if v is not None}


class Lookup(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(IDENTITIES))
    value = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The identity: a phone number, a WeCom userid, an openid, …"},
    )


def blueprint(intake: IntakeApplication) -> Blueprint:
    blp = Blueprint("customers", __name__, description="Customers (客户) and their opportunities (商机)")
    directory = intake.customers
    one, opportunity = f"{BASE}/<uuid:customer_id>", f"{BASE}/<uuid:customer_id>/opportunities/<opportunity_id>"
    settled = {404: "No such customer or opportunity", 409: "Already won or lost"}

    def view(customer: Customer) -> dict:
        return customer_view(customer, directory.flags(customer.tenant, customer.id))

    @blp.route(BASE, methods=["POST"])
    @blp.arguments(CustomerData)
    @blp.response(201, CustomerView, description="A customer was registered")
    @blp.alt_response(200, schema=CustomerView, description="Already known: that customer (merged, if it was two)")
    def register_customer(body: dict, tenant: str):
        """Register a customer, or add identities and details to the one they already are

        Identities of two customers merge them into the one the unionid (else the phone) names."""
        contact = directory.register(tenant, "api", body)
        return view(contact.customer), 201 if contact.first else 200

    @blp.route(BASE, methods=["GET"])
    @blp.arguments(Lookup, location="query")
    @blp.response(200, CustomerView)
    @blp.refuses({404: "No customer has it"})
    def find_customer(query: dict, tenant: str):
        """Look a customer up by one identity: ?kind=phone&value=..."""
        return view(directory.by_identity(tenant, query["kind"], query["value"]))

    @blp.route(one, methods=["GET"])
    @blp.response(200, CustomerView)
    @blp.refuses({404: "No such customer"})
    def show_customer(tenant: str, customer_id: UUID):
        """A customer: identities, details, tickets, opportunities"""
        return view(directory.get(tenant, customer_id))

    @blp.route(f"{one}/flags", methods=["PUT"])
    @blp.arguments(FlagsIn)
    @blp.response(200, CustomerView)
    @blp.refuses({404: "No such customer"})
    def flag_customer(body: dict, tenant: str, customer_id: UUID):
        """Mark the customer (vip …): every ticket they raise from now on carries the flags

        A merged-away customer's id marks the one they were merged into."""
        return view(directory.set_flags(tenant, customer_id, body["flags"], body["by"]))

    @blp.route(f"{one}/opportunities", methods=["POST"])
    @blp.arguments(OpportunityIn)
    @blp.response(201, OpportunityView)
    @blp.refuses({404: "No such customer"})
    def create_opportunity(body: dict, tenant: str, customer_id: UUID):
        """Open an opportunity (商机) for the customer"""
        opportunity_id = body.get("opportunity_id") or str(uuid4())
        amount = body.get("amount")
        customer, _ = directory.change(
            tenant,
            customer_id,
            lambda c: c.create_opportunity(
                opportunity_id, body["title"], None if amount is None else str(amount), body["stage"], body["by"]
            ),
        )
        return customer.opportunities[opportunity_id].to_dict()

    def _moved(tenant: str, customer_id: UUID, opportunity_id: str, move) -> dict:
        customer, _ = directory.change(tenant, customer_id, move)
        return customer.opportunities[opportunity_id].to_dict()

    @blp.route(opportunity, methods=["PATCH"])
    @blp.arguments(StageIn)
    @blp.response(200, OpportunityView)
    @blp.refuses(settled)
    def move_opportunity(body: dict, tenant: str, customer_id: UUID, opportunity_id: str):
        """Move an open opportunity to another stage"""
        return _moved(
            tenant, customer_id, opportunity_id, lambda c: c.move_opportunity(opportunity_id, body["stage"], body["by"])
        )

    @blp.route(f"{opportunity}/win", methods=["POST"])
    @blp.arguments(WonIn)
    @blp.response(200, OpportunityView)
    @blp.refuses(settled)
    def win_opportunity(body: dict, tenant: str, customer_id: UUID, opportunity_id: str):
        """The opportunity was won"""
        return _moved(tenant, customer_id, opportunity_id, lambda c: c.win_opportunity(opportunity_id, body["by"]))

    @blp.route(f"{opportunity}/lose", methods=["POST"])
    @blp.arguments(LostIn)
    @blp.response(200, OpportunityView)
    @blp.refuses(settled)
    def lose_opportunity(body: dict, tenant: str, customer_id: UUID, opportunity_id: str):
        """The opportunity was lost, and why"""
        return _moved(
            tenant,
            customer_id,
            opportunity_id,
            lambda c: c.lose_opportunity(opportunity_id, body["reason"], body["by"]),
        )

    return blp
