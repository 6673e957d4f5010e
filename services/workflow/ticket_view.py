"""What a viewer sees of a ticket: where it stands, who handles it, the field values they may
see and what they may do; and its timeline. Hidden fields never leave through here (sight.py)."""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

from shared.jsonable import plain, timeline_entry

from services.workflow.domain import Ticket
from services.workflow.sight import Sight, sight
from services.workflow.staff import Member
from services.workflow.templates import engine
from shared.formfields.forms import dump_values
from services.workflow.templates.model import Template
from services.workflow.templates.progress import Progress

NOT_SHOWN = {"progress"}  # it holds every field value, hidden ones included


def seen_by(ticket: Ticket, template: Template, viewer: Member | None) -> Sight:
    """What `viewer` (None: an API key, or nobody in the directory) may see of `ticket`."""
    mine = ticket.nodes_for(viewer) if viewer else []
    return sight(template, mine or ticket.nodes, bool(mine), ticket.progress["values"], ticket.customer)


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
        nodes.append(
            {
                "key": key,
                "name": node.name,
                "kind": node.kind,
                "handler": assignment.handler if assignment else None,
                "reason": assignment.reason if assignment else None,
                "actions": allowed,
                "sla": [plain(c.view()) for c in clocks],
            }
        )
    values = dump_values(progress.values)
    seen = sight(template, mine or ticket.nodes, bool(mine), values, ticket.customer)
    return seen.shown(
        {
            "id": str(ticket.id),
            "tenant": ticket.tenant,
            "template": ticket.template,
            "template_version": ticket.template_version,
            "status": ticket.status,
            "closed": ticket.closed,
            "node": ticket.node,
            "handler": ticket.handler,
            "nodes": nodes,
            "region": ticket.region,
            "values": values,
            "channel": ticket.channel,
            "customer": plain(ticket.customer),
            "description": ticket.description,
            "sandbox": [change.to_dict() for change in ticket.sandbox],
            "version": ticket.version,
            "priority": ticket.priority,
        }
    )


def visible_values(template: Template, values: Mapping[str, Any], nodes: list[str], union: bool) -> dict[str, Any]:
    """The values a viewer looking through `nodes` sees (see sight.sight)."""
    return sight(template, nodes, union, values, {}).values(values)


def timeline(events: list[Any], seen: Sight) -> list[dict[str, Any]]:
    """Every event, oldest first, with its actor and a millisecond timestamp, as `seen` lets the viewer
    see it (an Opened event carries the customer and the description)."""
    entries = []
    for event in events:
        entry = timeline_entry(event)
        entry["data"] = seen.shown({k: v for k, v in entry["data"].items() if k not in NOT_SHOWN})
        entry["actor"] = getattr(event, "by", None) or "system"
        entries.append(entry)
    return entries
