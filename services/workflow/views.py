"""What a viewer sees of a ticket: where it stands, who handles it, the field values they may
see and what they may do; and its timeline. Hidden fields never leave through here."""

from __future__ import annotations

from typing import Any, Mapping

from shared.views import plain, timeline_entry

from services.workflow.domain import Ticket
from services.workflow.staff import Member
from services.workflow.templates import engine
from shared.formfields.forms import dump_values
from services.workflow.templates.model import Template
from services.workflow.templates.progress import Progress

NOT_SHOWN = {"progress"}  # it holds every field value, hidden ones included


def ticket_view(ticket: Ticket, template: Template, viewer: Member | None) -> dict[str, Any]:
    progress = Progress.from_dict(ticket.progress, template)
    mine = ticket.nodes_for(viewer) if viewer else []
    nodes = []
    for key in ticket.nodes:
        node, assignment = template.node(key), ticket.assignment_at(key)
        allowed = list(engine.allowed_actions(template, progress, key)) if key in mine else []
        if key in mine and ticket.status == "open" and assignment.kind != "user":
            allowed.append("claim")
        clocks = ticket.sla.at(key)
        if key in mine and ticket.status == "open" and clocks and node.sla and node.sla.pausable:
            allowed.append("resume" if all(c.paused for c in clocks) else "pause")
        nodes.append({"key": key, "name": node.name, "kind": node.kind,
                      "handler": assignment.handler if assignment else None,
                      "reason": assignment.reason if assignment else None, "actions": allowed,
                      "sla": [plain(c.view()) for c in clocks]})
    return {"id": str(ticket.id), "tenant": ticket.tenant, "template": ticket.template,
            "template_version": ticket.template_version, "status": ticket.status, "closed": ticket.closed,
            "node": ticket.node, "handler": ticket.handler, "nodes": nodes, "region": ticket.region,
            "values": dump_values(visible_values(template, progress.values, mine or ticket.nodes, union=bool(mine))),
            "channel": ticket.channel, "customer": plain(ticket.customer), "description": ticket.description,
            "sandbox": [change.to_dict() for change in ticket.sandbox], "version": ticket.version,
            "priority": ticket.priority}


def visible_values(template: Template, values: Mapping[str, Any], nodes: list[str], union: bool) -> dict[str, Any]:
    """Through the nodes one handles (`union`), what any of them shows; for anyone else, only what no
    current node hides. The ticket's own view and the read models (lists, kanban) both ask here.
    Read models see the published template: a node a ticket's sandbox inserted is unknown there, and
    shows nothing (its field rules might hide anything)."""
    known = {node.key for node in template.nodes}
    rules = [template.node(node).fields for node in nodes if node in known]
    if not union and len(rules) < len(nodes):
        return {}
    shown = any if union else all
    return {key: value for key, value in values.items() if shown(r.access(key) != "hidden" for r in rules)}


def timeline(events: list[Any]) -> list[dict[str, Any]]:
    """Every event, oldest first, with its actor and a millisecond timestamp."""
    entries = []
    for event in events:
        entry = timeline_entry(event)
        entry["data"] = {k: v for k, v in entry["data"].items() if k not in NOT_SHOWN}
        entry["actor"] = getattr(event, "by", None) or "system"
        entries.append(entry)
    return entries
