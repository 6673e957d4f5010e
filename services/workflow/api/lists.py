"""Read models over HTTP: the ticket list with filters, kanban by node, my tickets, the overdue list,
the dashboard.

They read the projection (services/workflow/readmodels/), brought up to date with the log first,
so a reader sees their own last action."""

from __future__ import annotations

from datetime import UTC
from uuid import UUID

from marshmallow import RAISE, Schema, fields, validate

from shared.merges import CustomerMerges
from shared.restapi import Blueprint

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
    customer = fields.String(
        metadata={
            "description": "Any identifier of the customer, or intake's customer id: the tickets of customers "
            "merged into them too"
        },
        **_text,
    )
    overdue = fields.Boolean(
        metadata={
            "description": "Open with a recorded SLA breach, or a running deadline "
            "at or before now (true); or not (false)"
        }
    )
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
    priority = fields.String(metadata={"description": "normal, urgent or vip: every list puts vip first, then urgent"})
    values = fields.Dict(metadata={"description": "The field values the viewer may see"})
    sla = fields.Dict(
        metadata={
            "description": "deadline (the earliest running one), overdue, and the running "
            "clocks: node, clock, deadline (none while paused), breached"
        }
    )


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
    sla = fields.Dict(
        metadata={"description": "SLA clocks on_time (met by their deadline) and missed (met late or breached)"}
    )
    sla_compliance = fields.Float(allow_none=True, metadata={"description": "on_time / (on_time + missed)"})


class Column(Schema):
    node = fields.String()
    name = fields.String()
    count = fields.Integer(metadata={"description": "Open tickets there (tickets holds at most `limit`)"})
    sandbox = fields.Boolean(metadata={"description": "A node single tickets' sandboxes inserted"})
    tickets = fields.List(fields.Nested(Card))


class Kanban(Schema):
    template = fields.String()
    version = fields.Integer()
    columns = fields.List(fields.Nested(Column))


class Dashboard(Schema):
    total = fields.Nested(Figures)
    by_region = fields.Dict(values=fields.Nested(Figures))
    by_template = fields.Dict(values=fields.Nested(Figures))


def _filters(args: dict) -> Filters:
    names = set(Filters.__dataclass_fields__)
    # Times are kept as UTC ISO strings, compared as text: the bounds must be UTC too.
    return Filters(
        **{
            k: (v.astimezone(UTC).isoformat(timespec="milliseconds") if k.startswith("created_") else v)
            for k, v in args.items()
            if k in names
        }
    )


FILTERS = {"unknown": RAISE}  # a filter that is not one is refused, not ignored


def read_models(workflow: WorkflowApplication) -> tuple[Projector, Reader]:
    """The projection and its reader: a route catches the projector up with the log before it reads."""
    projector = Projector(workflow)
    reader = Reader(
        projector.store,
        workflow.template,
        workflow.clock,
        sandboxed=lambda row: workflow.template_of(workflow.ticket(UUID(row["id"]), row["tenant"])),
        merges=lambda tenant: workflow.current(CustomerMerges.create_id(tenant), tenant, CustomerMerges),
    )
    return projector, reader


def blueprints(workflow: WorkflowApplication) -> list[Blueprint]:
    blp = Blueprint(
        "lists",
        __name__,
        url_prefix="/v1/tenants/<tenant>",
        description="Read models: ticket lists, kanban, my tickets, overdue, dashboard",
    )
    projector, reader = read_models(workflow)

    def viewer(tenant: str, user: str | None):
        return workflow.staff(tenant).member(user) if user else None

    def page(tenant: str, args: dict, handlers: list[str] | None, user: str | None, overdue_list: bool = False):
        projector.catch_up()
        total, cards = reader.page(
            tenant, _filters(args), viewer(tenant, user), handlers, args["limit"], args["offset"], overdue=overdue_list
        )
        return {"total": total, "tickets": cards}

    @blp.route("/tickets", methods=["GET"])
    @blp.arguments(ListQuery, location="query", **FILTERS)
    @blp.response(200, Page)
    def list_tickets(args: dict, tenant: str):
        """Tickets, newest first, filtered; values as the viewer may see them"""
        return page(tenant, args, None, viewer_id())

    @blp.route("/my-tickets", methods=["GET"])
    @blp.arguments(ListQuery, location="query", **FILTERS)
    @blp.response(200, Page)
    def my_tickets(args: dict, tenant: str):
        """The open tickets the caller handles, by name or through a role or department pool"""
        user = staff_id()
        member = workflow.staff(tenant).member(user)
        mine = [user] + [f"role:{r}" for r in member.roles] + [f"department:{d}" for d in member.departments]
        return page(tenant, args, mine, user)

    @blp.route("/overdue", methods=["GET"])
    @blp.arguments(ListQuery, location="query", **FILTERS)
    @blp.response(200, Page)
    def overdue(args: dict, tenant: str):
        """Open tickets with a breached or passed SLA deadline, the oldest deadline first, filtered"""
        return page(tenant, args, None, viewer_id(), overdue_list=True)

    @blp.route("/kanban", methods=["GET"])
    @blp.arguments(KanbanQuery, location="query", **FILTERS)
    @blp.response(200, Kanban)
    @blp.refuses({404: "No such template or version"})
    def kanban(args: dict, tenant: str):
        """Open tickets of a template by node (one column per task node)"""
        template = workflow.template(tenant, args["template"], args.get("version"))
        projector.catch_up()
        columns = reader.kanban(tenant, template, _filters(args), viewer(tenant, viewer_id()), args["limit"])
        return {"template": template.key, "version": template.version, "columns": columns}

    @blp.route("/dashboard", methods=["GET"])
    @blp.arguments(Period, location="query", **FILTERS)
    @blp.response(200, Dashboard)
    def dashboard(args: dict, tenant: str):
        """Created, completed, completion rate, duration percentiles and SLA compliance, in all, per region and
        per template"""
        projector.catch_up()
        return reader.dashboard(tenant, _filters(args))

    return [blp]
