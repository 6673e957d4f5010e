"""Intake's HTTP adapter: the H5 submissions and the chat channels' callbacks here; the REST API for the
console and other systems (customers, opportunities, sidebar tickets; API keys: auth.py) beside it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable
from uuid import UUID

from flask import Flask, jsonify
from marshmallow import Schema, fields, validate

from shared import web
from shared.contracts import Customer, ticket_number
from shared.deadline import OUTCOME_UNKNOWN, Deadline, bounded
from shared.identity.guard import Identity
from shared.settings import Settings

from services.intake.api import audit
from services.intake.api import customers as customer_api
from services.intake.api import readers
from services.intake.api import tickets as ticket_api
from services.intake.application import IntakeApplication
from services.intake.channels import callback
from services.intake.channels.official_account import OfficialAccountServer
from services.intake.channels.wecom import WeCom
from services.intake.forms.customer import H5Customer

if TYPE_CHECKING:
    from services.intake.forms.web import FormChannel


class H5Submission(Schema):
    submission_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    customer = fields.Nested(H5Customer, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class TicketAccepted(Schema):
    ticket_id = fields.UUID()
    number = fields.String()
    created = fields.Boolean()


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


def create_app(intake: IntakeApplication, identity: Identity, clock: Callable[[], float] = time.time,
               replay_window: float = callback.REPLAY_WINDOW, forms: FormChannel | None = None,
               deadline: float = Settings.request_deadline) -> Flask:
    """`deadline`: seconds a submission waits for the store before it is answered 503."""
    app = web.create_app("intake", "SCRM intake API", identity)
    readers.only_systems_and_administrators_read(app)
    Deadline(deadline).install(app)
    for channel in (WeCom(), OfficialAccountServer()):
        callback.register(app, intake, channel, clock, replay_window)
    if forms is not None:  # the pages of published templates (services/intake/forms)
        forms.register(app, intake)
    customer_api.register(app, intake)  # REST for the console and other systems
    ticket_api.register(app, intake)
    audit.register(app, intake)

    # A form posted by a system of the tenant's own (an API key with the write scope); a customer's
    # phone fills in the published templates' pages instead (services/intake/forms).
    @app.post("/v1/tenants/<tenant>/h5/submissions")
    @bounded
    def submit_h5(tenant: str):
        body = web.json_body(H5Submission())
        accepted = intake.submit(tenant, "h5", body["submission_id"], body["customer"], body["description"])
        return (jsonify(ticket_id=str(accepted.ticket_id), number=ticket_number(accepted.ticket_id),
                        created=accepted.created), 201 if accepted.created else 200)

    web.document(app, "post", "/v1/tenants/{tenant}/h5/submissions", "Submit an H5 form; returns the ticket id",
                 body=H5Submission, responses={201: TicketAccepted, 200: "Already accepted: same ticket",
                                               400: "Invalid fields", 415: "Not JSON", 503: OUTCOME_UNKNOWN})

    # Look-ups show the customer: for the console and ops, with one of the tenant's API keys.
    @app.get("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>")
    def ticket(tenant: str, ticket_id: UUID):
        return jsonify(_view(intake.get(ticket_id, tenant)))

    web.document(app, "get", "/v1/tenants/{tenant}/tickets/{ticket_id}", "The submission behind a ticket",
                 responses={200: SubmissionView, 401: "No valid API key", 404: "Not found"})

    @app.get("/v1/tenants/<tenant>/channels/<channel>/messages/<path:message_id>")
    def by_message(tenant: str, channel: str, message_id: str):
        return jsonify(_view(intake.submission(tenant, channel, message_id)))

    web.document(app, "get", "/v1/tenants/{tenant}/channels/{channel}/messages/{message_id}",
                 "The ticket created from a channel's message",
                 responses={200: SubmissionView, 401: "No valid API key", 404: "Not found"})
    return app


def _view(s) -> dict:
    return {"ticket_id": str(s.id), "number": ticket_number(s.id), "channel": s.channel,
            "submission_id": s.submission_id, "customer": s.customer, "description": s.description,
            "template": s.template, "received_at": s.created_on.isoformat(),
            "customer_id": s.customer_id and str(s.customer_id), "region": s.region}
