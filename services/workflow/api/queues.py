"""The unassigned queues (待派单队列) over HTTP: the tickets nobody fitted, per role and site, for
dispatchers to claim (the `claim` action) or hand on (`transfer`). Read from the projection, brought
up to date with the log first."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from shared.restapi import Blueprint

from services.workflow.api.identity import staff_id
from services.workflow.api.lists import Page, read_models
from services.workflow.application import WorkflowApplication
from services.workflow.assignment import QUEUE, Assignment

_name = {"validate": validate.Length(min=1, max=64)}


class QueueQuery(Schema):
    role = fields.String(metadata={"description": "Only the queue of this role"}, **_name)
    site = fields.String(metadata={"description": "Only the queues of this site"}, **_name)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class QueueView(Schema):
    queue = fields.String(metadata={"description": "queue:<role> or queue:<role>@<site>, as tickets name it"})
    role = fields.String()
    site = fields.String(allow_none=True)
    count = fields.Integer()


class Queues(Page):
    queues = fields.List(fields.Nested(QueueView))


def blueprints(workflow: WorkflowApplication) -> list[Blueprint]:
    blp = Blueprint(
        "queues",
        __name__,
        url_prefix="/v1/tenants/<tenant>",
        description="The unassigned queues (待派单队列): tickets nobody fitted, for dispatchers to claim",
    )
    projector, reader = read_models(workflow)

    @blp.route("/unassigned", methods=["GET"])
    @blp.arguments(QueueQuery, location="query", unknown=RAISE)
    @blp.response(200, Queues)
    def unassigned(args: dict, tenant: str):
        """The unassigned queues (nobody fitted a node's handler rule) and their open tickets, VIP and urgent
        first, then the longest waiting: every queue for dispatchers, supervisors and admins, the queues of their
        own roles for others. Claim a ticket with the action claim, or hand it on with transfer"""
        member = workflow.staff(tenant).member(staff_id())
        projector.catch_up()
        shown = []
        for handler, count in reader.queues(tenant).items():
            role, _, site = handler.removeprefix(f"{QUEUE}:").partition("@")
            queue = Assignment("", QUEUE, handler.removeprefix(f"{QUEUE}:"), "")
            if queue.admits(member) and args.get("role") in (None, role) and args.get("site") in (None, site):
                shown.append({"queue": handler, "role": role, "site": site or None, "count": count})
        total, rows = reader.unassigned(tenant, [q["queue"] for q in shown], args["limit"], args["offset"])
        return {"queues": shown, "total": total, "tickets": [reader.card(r, member) for r in rows]}

    return [blp]
