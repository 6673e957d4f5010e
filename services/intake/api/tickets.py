"""The REST API for tickets: one raised from the WeCom chat sidebar (聊天侧边栏) by a staff member
for the external contact they are talking to, and a ticket seen with its customer."""

from __future__ import annotations

from uuid import UUID

from marshmallow import Schema, fields, validate

from shared.contracts import DEFAULT_TEMPLATE, PHONE, ticket_number
from shared.deadline import bounded
from shared.restapi import Blueprint

from services.intake.api.accepted import TicketAccepted, answer, submits
from services.intake.application import IntakeApplication
from services.intake.api.customers import CustomerView, OpportunityView, customer_view, media_view
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
    request_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "The sidebar's id for this request: a retry reaches the same ticket"},
    )
    external_userid = fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "The WeCom external contact (客户联系) it is for"},
    )
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    staff = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The WeCom userid of the staff member in the sidebar"},
    )
    customer = fields.Nested(SidebarCustomer, load_default=dict)


class SidebarAccepted(TicketAccepted):
    customer_id = fields.UUID()


class TicketWithCustomer(Schema):
    ticket = fields.Dict(metadata={"description": "The submission, its status, images and location"})
    customer = fields.Nested(CustomerView, allow_none=True)
    open_opportunities = fields.List(fields.Nested(OpportunityView))
    past_tickets = fields.List(fields.Dict(), metadata={"description": "The customer's other tickets"})


def blueprint(intake: IntakeApplication) -> Blueprint:
    blp = Blueprint(
        "tickets", __name__, description="Tickets raised from the chat sidebar, and seen with their customer"
    )

    @blp.route("/v1/tenants/<tenant>/sidebar/tickets", methods=["POST"])
    @blp.arguments(SidebarTicket)
    @submits(blp, SidebarAccepted)
    @bounded
    def sidebar_ticket(body: dict, tenant: str):
        """Raise a ticket from the chat sidebar for an external contact, linked to their customer"""
        customer = {**body["customer"], "wecom_external_userid": body["external_userid"]}
        settings = intake.channel_settings(tenant)
        # The sidebar belongs to the WeCom app: its keywords route the description.
        routed = settings.route("wecom", text=body["description"]) if settings else Routed(DEFAULT_TEMPLATE, "default")
        accepted = intake.submit(
            tenant, SIDEBAR, body["request_id"], customer, body["description"], routed.template, routed.as_dict()
        )
        submission = intake.get(accepted.ticket_id, tenant)
        return answer(accepted, customer_id=submission.customer_id)

    @blp.route("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>/customer", methods=["GET"])
    @blp.response(200, TicketWithCustomer)
    @blp.refuses({404: "No such ticket"})
    def ticket_with_customer(tenant: str, ticket_id: UUID):
        """A ticket with its customer, their open opportunities and their other tickets, and the images and
        location they sent for it"""
        submission = intake.get(ticket_id, tenant)
        customer = intake.customers.get(tenant, submission.customer_id) if submission.customer_id else None
        linked = customer.tickets.get(ticket_id) if customer else None
        media = [media_view(m) for m in customer.media_of(ticket_id)] if customer else []
        locations = [m for m in media if m["kind"] == "location"]
        ticket = {
            "ticket_id": str(ticket_id),
            "number": ticket_number(ticket_id),
            "channel": submission.channel,
            "description": submission.description,
            "template": submission.template,
            "region": submission.region,
            "status": linked.status if linked else "received",
            "attachments": [m for m in media if m["kind"] == "image"],
            "location": locations[-1] if locations else None,
        }
        if customer is None:
            return {"ticket": ticket, "customer": None, "open_opportunities": [], "past_tickets": []}
        view = customer_view(customer, intake.customers.flags(tenant, customer.id))
        return {
            "ticket": ticket,
            "customer": view,
            "open_opportunities": [o for o in view["opportunities"] if o["open"]],
            "past_tickets": [t for t in view["tickets"] if t["ticket_id"] != str(ticket_id)],
        }

    return blp
