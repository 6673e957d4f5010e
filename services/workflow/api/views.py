"""Read models over HTTP: the ticket list with filters, kanban by node, my tickets, the overdue list,
the dashboard.

They read the projection (services/workflow/readmodels/), brought up to date with the log first,
so a reader sees their own last action."""

from __future__ import annotations

from datetime import timezone
from uuid import UUID

from flask import Flask, jsonify
from marshmallow import Schema, fields, validate

from shared import web

from services.workflow.api.identity import staff_id, viewer_id
from services.workflow.application import WorkflowApplication
from services.workflow.readmodels.projector import Projector
from services.workflow.readmodels.queries import Filters, Reader

_text = {"validate": validate.Length(min=1, max=200)}
_when = {"metadata": {"description": "ISO 8601: tickets created from (inclusive) / before (exclusive)"}}


class Period(Schema):
    created_from = fields.AwareDateTime(**_when)
    created_to = fields.AwareDateTime(**_when)


class ListQuery(Period):
    status = fields.String(validate=validate.OneOf(("open", "closed", "cancelled")))
    node = fields.String(**_text)
    handler = fields.String(metadata={"description": "A user id, or role:<role> / department:<department>"}, **_text)
    region = fields.String(**_text)
    template = fields.String(**_text)
    customer = fields.String(metadata={"description": "Any identifier of the customer"}, **_text)
    overdue = fields.Boolean(metadata={"description": "Open with a recorded SLA breach, or a running deadline "
                                                      "at or before now (true); or not (false)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class KanbanQuery(ListQuery):
    template = fields.String(required=True, **_text)
    version = fields.Integer(metadata={"description": "The template version whose nodes make the columns; latest"})


class Card(Schema):
    id = fields.UUID()
    template = fields.String()
    template_version = fields.Integer()
    status = fields.String()
    nodes = fields.List(fields.String())
    handlers = fields.Dict(metadata={"description": "node -> handler, for the current nodes"})
    region = fields.String(allow_none=True)
    channel = fields.String()
    customer = fields.Dict()
    description = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    closed_at = fields.String(allow_none=True)
    current_handlers = fields.List(fields.String(), metadata={"description": "Who handles it now"})
    values = fields.Dict(metadata={"description": "The field values the viewer may see"})
    sla = fields.Dict(metadata={"description": "deadline (the earliest running one), overdue, and the running "
                                               "clocks: node, clock, deadline (none while paused), breached"})


class Page(Schema):
    total = fields.Integer()
    tickets = fields.List(fields.Nested(Card))


class Figures(Schema):
    created = fields.Integer()
    completed = fields.Integer()
    cancelled = fields.Integer()
    open = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    duration_seconds = fields.Dict(metadata={"description": "p50, p90, p95 of created → closed"})
    sla = fields.Dict(metadata={"description": "SLA clocks on_time (met by their deadline) and missed (met late "
                                               "or breached)"})
    sla_compliance = fields.Float(allow_none=True, metadata={"description": "on_time / (on_time + missed)"})


class Dashboard(Schema):
    total = fields.Nested(Figures)
    by_region = fields.Dict(values=fields.Nested(Figures))
    by_template = fields.Dict(values=fields.Nested(Figures))


def _filters(args: dict) -> Filters:
    names = set(Filters.__dataclass_fields__)
    # Times are kept as UTC ISO strings, compared as text: the bounds must be UTC too.
    return Filters(**{k: (v.astimezone(timezone.utc).isoformat(timespec="milliseconds") if k.startswith("created_")
                          else v) for k, v in args.items() if k in names})


def register(app: Flask, workflow: WorkflowApplication) -> None:
    projector = Projector(workflow)
    reader = Reader(projector.store, workflow.template, workflow.clock,
                    sandboxed=lambda row: workflow.template_of(workflow.ticket(UUID(row["id"]), row["tenant"])))
    base, doc = "/v1/tenants/<tenant>", "/v1/tenants/{tenant}"

    def viewer(tenant: str, user: str | None):
        return workflow.staff(tenant).member(user) if user else None

    def page(tenant: str, args: dict, handlers: list[str] | None, user: str | None, overdue_list: bool = False):
        projector.catch_up()
        total, cards = reader.page(tenant, _filters(args), viewer(tenant, user), handlers, args["limit"],
                                   args["offset"], overdue=overdue_list)
        return jsonify(total=total, tickets=cards)

    @app.get(base + "/tickets")
    def list_tickets(tenant: str):
        return page(tenant, web.query_args(ListQuery()), None, viewer_id())

    web.document(app, "get", f"{doc}/tickets", "Tickets, newest first, filtered; values as the viewer may see them",
                 query=ListQuery, responses={200: Page, 400: "Invalid filters"})

    @app.get(base + "/my-tickets")
    def my_tickets(tenant: str):
        user, args = staff_id(), web.query_args(ListQuery())
        member = workflow.staff(tenant).member(user)
        mine = [user] + [f"role:{r}" for r in member.roles] + [f"department:{d}" for d in member.departments]
        return page(tenant, args, mine, user)

    web.document(app, "get", f"{doc}/my-tickets",
                 "The open tickets the caller (X-Staff-Id) handles, by name or through a role or department pool",
                 query=ListQuery, responses={200: Page, 400: "Invalid filters", 401: "No staff id"})

    @app.get(base + "/overdue")
    def overdue(tenant: str):
        return page(tenant, web.query_args(ListQuery()), None, viewer_id(), overdue_list=True)

    web.document(app, "get", f"{doc}/overdue",
                 "Open tickets with a breached or passed SLA deadline, the oldest deadline first, filtered",
                 query=ListQuery, responses={200: Page, 400: "Invalid filters"})

    @app.get(base + "/kanban")
    def kanban(tenant: str):
        args = web.query_args(KanbanQuery())
        template = workflow.template(tenant, args["template"], args.get("version"))
        projector.catch_up()
        columns = reader.kanban(tenant, template, _filters(args), viewer(tenant, viewer_id()), args["limit"])
        return jsonify(template=template.key, version=template.version, columns=columns)

    web.document(app, "get", f"{doc}/kanban", "Open tickets of a template by node (one column per task node)",
                 query=KanbanQuery, responses={200: "columns: node, name, count, tickets", 400: "Invalid filters",
                                               404: "No such template"})

    @app.get(base + "/dashboard")
    def dashboard(tenant: str):
        args = web.query_args(Period())
        projector.catch_up()
        return jsonify(reader.dashboard(tenant, _filters(args)))

    web.document(app, "get", f"{doc}/dashboard",
                 "Created, completed, completion rate, duration percentiles and SLA compliance, in all, per region "
                 "and per template",
                 query=Period, responses={200: Dashboard, 400: "Invalid period"})
