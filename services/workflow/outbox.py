"""What workflow publishes on its topic: the ticket lifecycle, templates as they are published, and
which tenants exist with their API keys (for every service to check its callers)."""

from shared.identity.access import TenantAccess
from shared.outbox import Outbox

from services.workflow.assignment import QUEUE, Assignment
from services.workflow.domain import Ticket
from services.workflow.library import TemplateLibrary
from services.workflow.staff import StaffDirectory


def _items(e):
    return {"by": e.by, "items": [{"code": i["code"], "quantity": str(i["quantity"])} for i in e.items]}


def _transitioned(e):
    return {
        "action": e.action,
        "by": e.by,
        "node": e.node,
        "from_nodes": e.from_nodes,
        "to_nodes": e.to_nodes,
        "status": e.progress["status"],
        "template": e.progress["template"],
        "template_version": e.progress["version"],
    }


def _published(e):
    t = e.template
    return {
        "key": t["key"],
        "version": t["version"],
        "name": t["name"],
        "fields": t["fields"],
        "variant_of": t.get("variant_of"),
        "regions": t.get("regions", []),
        "by": e.by,
    }


def _timer(e):
    return {
        "node": e.node,
        "visit": e.visit,
        "clock": e.clock,
        "target": e.target,
        "due": e.due.isoformat(),
        "deadline": e.deadline.isoformat() if e.deadline else None,
        "handler": e.handler,
    }


def _staff_saved(e):
    return {
        "user": e.user,
        "removed": False,
        "name": e.name,
        "roles": e.roles,
        "departments": e.departments,
        "supervisor": e.supervisor,
        **(e.contact or {}),
    }


def _changed(e, op: str, **what):
    return {"op": op, "node": e.node, "by": e.by, "why": e.why, **what}


OUTBOX = Outbox(
    service="workflow",
    translations={
        Ticket.Opened: (
            "ticket.opened",
            lambda e: {
                "template": e.template,
                "template_version": e.template_version,
                "node": e.node,
                "handler": e.handler,
                "reason": e.reason,
                **({"region": e.region} if e.region else {}),
            },
        ),
        Ticket.PartsConsumed: ("ticket.parts_consumed", _items),
        Ticket.PartsReturned: ("ticket.parts_returned", _items),
        Ticket.LabourRecorded: ("ticket.labour_recorded", _items),
        Ticket.Transitioned: ("ticket.transitioned", _transitioned),
        Ticket.NodeInserted: ("ticket.process_changed", lambda e: _changed(e, "insert", after=e.after)),
        Ticket.NodeSkipped: ("ticket.process_changed", lambda e: _changed(e, "skip", to=e.to, dropped=e.dropped)),
        Ticket.HandlerOverridden: ("ticket.process_changed", lambda e: _changed(e, "handler", handler=e.handler)),
        Ticket.Assigned: (
            "ticket.assigned",
            lambda e: {
                "node": e.node,
                "handler": Assignment(e.node, e.kind, e.value, e.reason).handler,
                "kind": e.kind,
                "value": e.value,
                "reason": e.reason,
                "by": e.by,
            },
        ),
        Ticket.Unassigned: (
            "ticket.unassigned",
            lambda e: {
                "node": e.node,
                "queue": Assignment(e.node, QUEUE, e.queue, e.reason).handler,
                "role": e.queue.partition("@")[0],
                "site": e.queue.partition("@")[2] or None,
                "reason": e.reason,
                "by": e.by,
            },
        ),
        Ticket.Closed: ("ticket.closed", lambda e: {"from_node": e.from_node, "to_node": e.to_node, "by": e.by}),
        TemplateLibrary.Published: ("template.published", _published),
        Ticket.SlaWarned: ("ticket.sla_warned", _timer),
        Ticket.SlaBreached: ("ticket.sla_breached", _timer),
        Ticket.Escalated: (
            "ticket.escalated",
            lambda e: _timer(e) | {"step": e.step, "action": e.action, "to": e.to, "reason": e.reason, "vip": e.vip},
        ),
        TenantAccess.Created: ("tenant.created", lambda e: {"name": e.name, "by": e.created_by}),
        TenantAccess.KeyIssued: (
            "api_key.issued",
            lambda e: {"key_id": e.key_id, "name": e.name, "scope": e.scope, "digest": e.digest, "by": e.by},
        ),
        TenantAccess.KeyRevoked: ("api_key.revoked", lambda e: {"key_id": e.key_id, "by": e.by}),
        # The staff directory, for notify (issue 13); the subject is the tenant's directory.
        StaffDirectory.MemberSaved: ("staff.changed", _staff_saved),
        StaffDirectory.MemberRemoved: ("staff.changed", lambda e: {"user": e.user, "removed": True}),
        Ticket.SlaMet: (
            "ticket.sla_met",
            lambda e: {
                "node": e.node,
                "visit": e.visit,
                "clock": e.clock,
                "how": e.how,
                "at": e.at.isoformat(),
                "deadline": e.deadline.isoformat() if e.deadline else None,
                "on_time": e.on_time,
            },
        ),
    },
)
