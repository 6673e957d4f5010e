"""Tickets: what a viewer sees of one, its timeline, and the staff actions on it."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from marshmallow import Schema, fields, post_load, validate

from shared.contracts import Item
from shared.idempotency_header import idempotent
from shared.merges import CustomerMerges
from shared.restapi import Blueprint

from services.workflow.api.identity import staff_id, viewer_id
from services.workflow.application import WorkflowApplication
from services.workflow.assignment import POOLS
from services.workflow.customers import as_survivor
from services.workflow import sandbox
from services.workflow.domain import SANDBOX_ROLES, Ticket
from services.workflow.templates.model import ACTIONS, HANDLER_KINDS
from services.workflow.ticket_view import seen_by, ticket_view, timeline

STAFF_ACTIONS = [a for a in ACTIONS if a != "view"] + ["claim", "pause", "resume"]


class ItemsBody(Schema):
    items = fields.List(fields.Nested(Item), required=True, validate=validate.Length(min=1, max=200))


class Handler(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("user",) + POOLS))
    value = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ActionBody(Schema):
    action = fields.String(required=True, validate=validate.OneOf(STAFF_ACTIONS))
    node = fields.String(metadata={"description": "Where to act; needed only when you handle several current nodes"})
    values = fields.Dict(
        keys=fields.String(), metadata={"description": "Field values (edit, advance, approve, reject)"}
    )
    to = fields.String(metadata={"description": "return: the earlier node to go back to"})
    handler = fields.Nested(Handler, metadata={"description": "transfer: the new handler"})
    expected_version = fields.Integer(metadata={"description": "The ticket version you saw: 409 if it changed"})


class HandlerRuleBody(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(HANDLER_KINDS))
    value = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "Whom (not for previous_supervisor)"}
    )


class InsertedNode(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    handler = fields.Nested(HandlerRuleBody(), required=True)
    actions = fields.List(
        fields.String(validate=validate.OneOf(ACTIONS)),
        metadata={"description": f"Default: {', '.join(sandbox.INSERTED_ACTIONS)}"},
    )
    field_rules = fields.Dict(
        data_key="fields",
        metadata={"description": "Field rules: hidden, read_only, editable, required (lists of field keys)"},
    )

    @post_load
    def as_node(self, data: dict, **_: object) -> dict:
        rules = data.pop("field_rules", None)  # `fields` would shadow marshmallow's module here
        return data | ({"fields": rules} if rules else {})


class SandboxBody(Schema):
    op = fields.String(required=True, validate=validate.OneOf(sandbox.OPERATIONS))
    after = fields.String(metadata={"description": "insert: the node the new one follows"})
    inserted = fields.Nested(InsertedNode, metadata={"description": "insert: the new task node"})
    node = fields.String(metadata={"description": "skip / handler: the node concerned"})
    handler = fields.Nested(HandlerRuleBody(), metadata={"description": "handler: the node's new handler rule"})
    why = fields.String(load_default="", validate=validate.Length(max=500))


class NodeView(Schema):
    key = fields.String()
    name = fields.String()
    kind = fields.String()
    handler = fields.String(
        allow_none=True, metadata={"description": "A user id, or role:<role> / department:<department>"}
    )
    reason = fields.String(allow_none=True)
    actions = fields.List(fields.String(), metadata={"description": "What the viewer may do here"})
    sla = fields.List(
        fields.Dict(),
        metadata={"description": "The running SLA clocks here: target, deadline, paused, breached, the next timer"},
    )


class TimelineEntry(Schema):
    type = fields.String(metadata={"description": "CustomerSent: a text, image or location the customer sent"})
    version = fields.Integer(metadata={"description": "The ticket's version; a CustomerSent's, its conversation's"})
    at = fields.String(metadata={"description": "ISO 8601 with milliseconds"})
    actor = fields.String()
    data = fields.Dict()


class Timeline(Schema):
    timeline = fields.List(fields.Nested(TimelineEntry))


class TicketView(Schema):
    id = fields.UUID()
    tenant = fields.String()
    template = fields.String()
    template_version = fields.Integer()
    status = fields.String()
    closed = fields.Boolean()
    node = fields.String(allow_none=True, metadata={"description": "The first current node (see nodes)"})
    handler = fields.String(allow_none=True)
    nodes = fields.List(fields.Nested(NodeView))
    values = fields.Dict(metadata={"description": "The field values the viewer may see"})
    region = fields.String(allow_none=True)
    channel = fields.String()
    customer = fields.Dict()
    description = fields.String()
    version = fields.Integer()
    history = fields.List(fields.Nested(TimelineEntry))
    sandbox = fields.List(fields.Dict(), metadata={"description": "This ticket's own process changes, in order"})
    priority = fields.String(metadata={"description": "normal, urgent or vip: lists and queues put vip first"})


HANDLERS = {
    403: "Not a handler of a current node",
    409: "Closed or changed meanwhile",
    422: "A code the tenant's catalogue (settlement) does not have: details.codes",
}


def blueprints(workflow: WorkflowApplication) -> list[Blueprint]:
    blp = Blueprint(
        "tickets",
        __name__,
        url_prefix="/v1/tenants/<tenant>/tickets/<uuid:ticket_id>",
        description="A ticket as a viewer sees it, its timeline, and the staff actions on it",
    )

    def member(tenant: str, viewer: str | None):
        return workflow.staff(tenant).member(viewer) if viewer else None

    def history(ticket: Ticket, viewer: str | None) -> list[dict]:
        seen = seen_by(ticket, workflow.template_of(ticket), member(ticket.tenant, viewer))
        return timeline(workflow.history(ticket.id, ticket.tenant), seen)

    def view(ticket: Ticket, viewer: str | None, with_history: bool = False) -> dict:
        shown = ticket_view(ticket, workflow.template_of(ticket), member(ticket.tenant, viewer))
        merges = workflow.current(CustomerMerges.create_id(ticket.tenant), ticket.tenant, CustomerMerges)
        shown["customer"] = as_survivor(shown["customer"], merges)  # intake may have merged them since
        if with_history:
            shown["history"] = history(ticket, viewer)
        return shown

    def as_it_is(tenant: str, ticket_id: UUID) -> dict:
        """What a write sent again with its Idempotency-Key answers: the ticket as it is now."""
        return view(workflow.ticket(ticket_id, tenant), staff_id())

    once = idempotent(workflow, as_it_is)

    @blp.route("", methods=["GET"])
    @blp.response(200, TicketView)
    @blp.refuses({404: "No such ticket"})
    def ticket(tenant: str, ticket_id: UUID):
        """A ticket as the caller may see it, with its history"""
        return view(workflow.ticket(ticket_id, tenant), viewer_id(), with_history=True)

    @blp.route("/timeline", methods=["GET"])
    @blp.response(200, Timeline)
    @blp.refuses({404: "No such ticket"})
    def ticket_timeline(tenant: str, ticket_id: UUID):
        """Every event of the ticket with its actor and a millisecond time; what the viewer may not see of the
        ticket masked"""
        return {"timeline": history(workflow.ticket(ticket_id, tenant), viewer_id())}

    @blp.route("/actions", methods=["POST"])
    @blp.arguments(ActionBody)
    @blp.response(200, TicketView)
    @blp.refuses(
        {
            400: "Invalid values or action (details list them)",
            403: "Denied: details.rule names the rule (handler, node_actions, field_rules)",
            404: "No such ticket",
            409: "The ticket changed meanwhile or is not in that state",
        }
    )
    @once
    def act(body: dict, tenant: str, ticket_id: UUID):
        """Act on the ticket as a staff member: edit, advance, return, transfer, approve, reject, close, cancel,
        reopen, claim it from a pool, or pause / resume its SLA while waiting for the customer"""
        by = staff_id()
        return view(workflow.act(tenant, ticket_id, by, **body), by)

    def recorder(what: str, record: Callable, summary: str) -> None:
        @blp.route(f"/{what}", methods=["POST"], endpoint=f"record_{what}")
        @blp.arguments(ItemsBody)
        @blp.response(201, TicketView)
        @blp.refuses({404: "No such ticket", **HANDLERS})
        @blp.doc(summary=summary)
        @once
        def record_items(body: dict, tenant: str, ticket_id: UUID):
            by = staff_id()
            return view(record(tenant, ticket_id, by, body["items"]), by)

    recorder("parts", workflow.consume_parts, "Record spare parts consumed")
    recorder("labour", workflow.record_labour, "Record labour / service items")

    @blp.route("/parts/returns", methods=["POST"])
    @blp.arguments(ItemsBody)
    @blp.response(201, TicketView)
    @blp.refuses({400: "Invalid items, or more than the ticket consumed", 404: "No such ticket", **HANDLERS})
    @once
    def return_parts(body: dict, tenant: str, ticket_id: UUID):
        """Return spare parts this ticket consumed and did not use"""
        by = staff_id()
        return view(workflow.return_parts(tenant, ticket_id, by, body["items"]), by)

    @blp.route("/close", methods=["POST"])
    @blp.response(200, TicketView)
    @blp.refuses({403: "Not the handler", 404: "No such ticket", 409: "Already closed"})
    @once
    def close(tenant: str, ticket_id: UUID):
        """Close the ticket (move to the last node)"""
        by = staff_id()
        return view(workflow.close_ticket(tenant, ticket_id, by), by)

    @blp.route("/sandbox", methods=["POST"])
    @blp.arguments(SandboxBody)
    @blp.response(200, TicketView)
    @blp.refuses(
        {
            400: "The change would break the process (details.problems list why)",
            403: f"Denied (rule sandbox): only roles {', '.join(SANDBOX_ROLES)}",
            404: "No such ticket",
            409: "Closed, at or may return to the skipped node, or changed meanwhile",
        }
    )
    @once
    def change_process(body: dict, tenant: str, ticket_id: UUID):
        """Process sandbox (流程沙箱): change this ticket's process only

        Insert a task node after another (op insert: after, inserted), skip a node (op skip: node) or change a
        node's handler rule (op handler: node, handler; the ticket is assigned again if it is there). Recorded as
        NodeInserted, NodeSkipped, HandlerOverridden in the ticket's history; the published template never
        changes."""
        by = staff_id()
        why = body.pop("why")
        return view(workflow.change_process(tenant, ticket_id, by, sandbox.requested(**body), why), by)

    return [blp]
