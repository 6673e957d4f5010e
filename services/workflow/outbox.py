"""What workflow publishes on its topic: the ticket lifecycle, and templates as they are published."""

from shared.outbox import Outbox

from services.workflow.assignment import Assignment
from services.workflow.domain import Ticket
from services.workflow.library import TemplateLibrary


def _items(e):
    return {"by": e.by, "items": [{"code": i["code"], "quantity": str(i["quantity"])} for i in e.items]}


def _transitioned(e):
    return {"action": e.action, "by": e.by, "node": e.node, "from_nodes": e.from_nodes, "to_nodes": e.to_nodes,
            "status": e.progress["status"], "template": e.progress["template"],
            "template_version": e.progress["version"]}


def _published(e):
    t = e.template
    return {"key": t["key"], "version": t["version"], "name": t["name"], "fields": t["fields"],
            "variant_of": t.get("variant_of"), "regions": t.get("regions", []), "by": e.by}


def _timer(e):
    return {"node": e.node, "visit": e.visit, "clock": e.clock, "target": e.target, "due": e.due.isoformat(),
            "deadline": e.deadline.isoformat() if e.deadline else None, "handler": e.handler}


def _changed(e, op: str, **what):
    return {"op": op, "node": e.node, "by": e.by, "why": e.why, **what}


OUTBOX = Outbox(
    service="workflow",
    translations={
        Ticket.Opened: lambda e: ("ticket.opened", {
            "template": e.template, "template_version": e.template_version, "node": e.node,
            "handler": e.handler, "reason": e.reason, **({"region": e.region} if e.region else {})}),
        Ticket.PartsConsumed: lambda e: ("ticket.parts_consumed", _items(e)),
        Ticket.PartsReturned: lambda e: ("ticket.parts_returned", _items(e)),
        Ticket.LabourRecorded: lambda e: ("ticket.labour_recorded", _items(e)),
        Ticket.Transitioned: lambda e: ("ticket.transitioned", _transitioned(e)),
        Ticket.NodeInserted: lambda e: ("ticket.process_changed", _changed(e, "insert", after=e.after)),
        Ticket.NodeSkipped: lambda e: ("ticket.process_changed", _changed(e, "skip", to=e.to, dropped=e.dropped)),
        Ticket.HandlerOverridden: lambda e: ("ticket.process_changed", _changed(e, "handler", handler=e.handler)),
        Ticket.Assigned: lambda e: ("ticket.assigned", {
            "node": e.node, "handler": Assignment(e.node, e.kind, e.value, e.reason).handler, "kind": e.kind,
            "value": e.value, "reason": e.reason, "by": e.by}),
        Ticket.Closed: lambda e: ("ticket.closed", {"from_node": e.from_node, "to_node": e.to_node, "by": e.by}),
        TemplateLibrary.Published: lambda e: ("template.published", _published(e)),
        Ticket.SlaWarned: lambda e: ("ticket.sla_warned", _timer(e)),
        Ticket.SlaBreached: lambda e: ("ticket.sla_breached", _timer(e)),
        Ticket.Escalated: lambda e: ("ticket.escalated", _timer(e) | {
            "step": e.step, "action": e.action, "to": e.to, "reason": e.reason, "vip": e.vip}),
        Ticket.SlaMet: lambda e: ("ticket.sla_met", {
            "node": e.node, "visit": e.visit, "clock": e.clock, "how": e.how, "at": e.at.isoformat(),
            "deadline": e.deadline.isoformat() if e.deadline else None, "on_time": e.on_time}),
    },
)
