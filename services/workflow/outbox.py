"""What workflow publishes on the ticket topic."""

from shared.outbox import Outbox

from services.workflow.domain import Ticket


def _items(e):
    return {"by": e.by, "items": [{"code": i["code"], "quantity": str(i["quantity"])} for i in e.items]}


OUTBOX = Outbox(
    service="workflow",
    translations={
        Ticket.Opened: lambda e: ("ticket.opened", {
            "template": e.template, "template_version": e.template_version, "node": e.node,
            "handler": e.handler, "reason": e.reason}),
        Ticket.PartsConsumed: lambda e: ("ticket.parts_consumed", _items(e)),
        Ticket.LabourRecorded: lambda e: ("ticket.labour_recorded", _items(e)),
        Ticket.Closed: lambda e: ("ticket.closed", {"from_node": e.from_node, "to_node": e.to_node, "by": e.by}),
    },
)
