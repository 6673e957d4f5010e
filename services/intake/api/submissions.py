"""Submissions: an H5 form posted by a system of the tenant's own, and the submission behind a ticket
or a channel's message (for the console and ops)."""

from __future__ import annotations

from uuid import UUID

from marshmallow import Schema, fields, validate

from shared.contracts import Customer, ticket_number
from shared.deadline import bounded
from shared.restapi import Blueprint

from services.intake.api.accepted import answer, submits
from services.intake.application import IntakeApplication
from services.intake.forms.customer import H5Customer


class H5Submission(Schema):
    submission_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    customer = fields.Nested(H5Customer, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class SubmissionView(Schema):
    ticket_id = fields.UUID()
    number = fields.String(metadata={"description": "The short ticket number people are told"})
    channel = fields.String()
    submission_id = fields.String()
    customer = fields.Nested(Customer)
    description = fields.String()
    template = fields.String()
    received_at = fields.DateTime()
    customer_id = fields.UUID(allow_none=True)
    region = fields.String(allow_none=True)


def blueprint(intake: IntakeApplication) -> Blueprint:
    blp = Blueprint("submissions", __name__, description="Submissions and the tickets they became")

    # A form posted by a system of the tenant's own (an API key with the write scope); a customer's
    # phone fills in the published templates' pages instead (services/intake/forms).
    @blp.route("/v1/tenants/<tenant>/h5/submissions", methods=["POST"])
    @blp.arguments(H5Submission)
    @submits(blp)
    @bounded
    def submit_h5(body: dict, tenant: str):
        """Submit an H5 form; returns the ticket id"""
        return answer(intake.submit(tenant, "h5", body["submission_id"], body["customer"], body["description"]))

    @blp.route("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>", methods=["GET"])
    @blp.response(200, SubmissionView)
    @blp.refuses({404: "No such ticket"})
    def ticket(tenant: str, ticket_id: UUID):
        """The submission behind a ticket"""
        return _view(intake.get(ticket_id, tenant))

    @blp.route("/v1/tenants/<tenant>/channels/<channel>/messages/<path:message_id>", methods=["GET"])
    @blp.response(200, SubmissionView)
    @blp.refuses({404: "No ticket was made from that message"})
    def by_message(tenant: str, channel: str, message_id: str):
        """The ticket created from a channel's message"""
        return _view(intake.submission(tenant, channel, message_id))

    return blp


def _view(s) -> dict:
    return {
        "ticket_id": s.id,
        "number": ticket_number(s.id),
        "channel": s.channel,
        "submission_id": s.submission_id,
        "customer": s.customer,
        "description": s.description,
        "template": s.template,
        "received_at": s.created_on,
        "customer_id": s.customer_id,
        "region": s.region,
    }
