"""The REST API for tickets: one raised from the WeCom chat sidebar (聊天侧边栏) by a staff member
for the external contact they are talking to, and a ticket seen with its customer. Every call
needs one of the tenant's API keys (see auth.py)."""

from __future__ import annotations

from uuid import UUID

from flask import Flask, jsonify
from marshmallow import Schema, fields, validate

from shared import web
from shared.contracts import DEFAULT_TEMPLATE, PHONE, ticket_number
from shared.deadline import OUTCOME_UNKNOWN, bounded

from services.intake.application import IntakeApplication
from services.intake.api.customers import DENIED, CustomerView, OpportunityView, customer_view, media_view
from services.intake.tenant import Routed

SIDEBAR = "wecom_sidebar"  # the channel in ticket ids and in ticket.created
_optional = {"validate": validate.Length(min=1, max=500)}


class SidebarCustomer(Schema):
    """What the staff member knows besides the external contact id."""

    name = fields.String(**_optional)
    phone = fields.String(validate=PHONE)
    address = fields.String(**_optional)
    unionid = fields.String(**_optional)


class SidebarTicket(Schema):
    request_id = fields.String(required=True, validate=validate.Length(min=1, max=128), metadata={
        "description": "The sidebar's id for this request: a retry reaches the same ticket"})
    external_userid = fields.String(required=True, validate=validate.Length(min=1, max=128),
                                    metadata={"description": "The WeCom external contact (客户联系) it is for"})
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    staff = fields.String(required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "The WeCom userid of the staff member in the sidebar"})
    customer = fields.Nested(SidebarCustomer, load_default=dict)


class SidebarAccepted(Schema):
    ticket_id = fields.UUID()
    number = fields.String()
    created = fields.Boolean()
    customer_id = fields.UUID()


class TicketWithCustomer(Schema):
    ticket = fields.Dict(metadata={"description": "The submission, its status, images and location"})
    customer = fields.Nested(CustomerView)
    open_opportunities = fields.List(fields.Nested(OpportunityView))
    past_tickets = fields.List(fields.Dict(), metadata={"description": "The customer's other tickets"})


def register(app: Flask, intake: IntakeApplication) -> None:

    @app.post("/v1/tenants/<tenant>/sidebar/tickets")
    @bounded
    def sidebar_ticket(tenant: str):
        body = web.json_body(SidebarTicket())
        customer = {**body["customer"], "wecom_external_userid": body["external_userid"]}
        settings = intake.channel_settings(tenant)
        # The sidebar belongs to the WeCom app: its keywords route the description.
        routed = settings.route("wecom", text=body["description"]) if settings else Routed(DEFAULT_TEMPLATE, "default")
        accepted = intake.submit(tenant, SIDEBAR, body["request_id"], customer, body["description"],
                                 routed.template, routed.as_dict())
        submission = intake.get(accepted.ticket_id, tenant)
        return (jsonify(ticket_id=str(accepted.ticket_id), number=ticket_number(accepted.ticket_id),
                        created=accepted.created, customer_id=str(submission.customer_id)),
                201 if accepted.created else 200)

    web.document(app, "post", "/v1/tenants/{tenant}/sidebar/tickets",
                 "Raise a ticket from the chat sidebar for an external contact, linked to their customer",
                 body=SidebarTicket, responses={201: SidebarAccepted, 200: "Already accepted: same ticket",
                                                400: "Invalid fields", 415: "Not JSON", 503: OUTCOME_UNKNOWN, **DENIED})

    @app.get("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>/customer")
    def ticket_with_customer(tenant: str, ticket_id: UUID):
        submission = intake.get(ticket_id, tenant)
        customer = intake.customers.get(tenant, submission.customer_id) if submission.customer_id else None
        linked = customer.tickets.get(ticket_id) if customer else None
        media = [media_view(m) for m in customer.media_of(ticket_id)] if customer else []
        locations = [m for m in media if m["kind"] == "location"]
        ticket = {"ticket_id": str(ticket_id), "number": ticket_number(ticket_id), "channel": submission.channel,
                  "description": submission.description, "template": submission.template,
                  "region": submission.region, "status": linked.status if linked else "received",
                  "attachments": [m for m in media if m["kind"] == "image"],
                  "location": locations[-1] if locations else None}
        if customer is None:
            return jsonify(ticket=ticket, customer=None, open_opportunities=[], past_tickets=[])
        view = customer_view(customer)
        return jsonify(ticket=ticket, customer=view,
                       open_opportunities=[o for o in view["opportunities"] if o["open"]],
                       past_tickets=[t for t in view["tickets"] if t["ticket_id"] != str(ticket_id)])

    web.document(app, "get", "/v1/tenants/{tenant}/tickets/{ticket_id}/customer",
                 "A ticket with its customer, their open opportunities and their other tickets, and the images "
                 "and location they sent for it", responses={200: TicketWithCustomer, 404: "Not found", **DENIED})
