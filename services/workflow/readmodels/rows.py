"""One row per ticket, folded from its events: what lists, kanban and the dashboard read. No I/O.

A row keeps the ticket's progress (every field value, hidden ones included): what a viewer may see
of it is decided when it is read (queries.py), never here.
"""

from __future__ import annotations

from typing import Any

from shared.jsonable import plain

from services.workflow.assignment import QUEUE, Assignment
from services.workflow.domain import Ticket
from services.workflow.priority import RANK
from services.workflow.readmodels import deadlines

Row = dict[str, Any]


def fold(row: Row | None, event: Any) -> Row | None:
    """The row after `event` (None: the event says nothing a row keeps)."""
    at = plain(event.timestamp)
    if isinstance(event, Ticket.Opened):
        return {
            "id": str(event.originator_id),
            "tenant": event.tenant,
            "template": event.template,
            "template_version": event.template_version,
            "status": event.progress["status"],
            "nodes": _nodes(event.progress),
            "progress": plain(event.progress),
            "handlers": {a["node"]: Assignment.from_dict(a).handler for a in event.assignments},
            "region": event.region,
            "channel": event.channel,
            "customer": plain(event.customer),
            "description": event.description,
            "created_at": at,
            "updated_at": at,
            "closed_at": None,
            "sla": deadlines.fresh(),
            "priority": "normal",
        }
    if row is None:
        return None
    if isinstance(event, Ticket.SlaEvent):
        sla = deadlines.folded(row["sla"], type(event).__name__, event)
        return None if sla is None else {**row, "updated_at": at, "sla": sla}
    row = {**row, "updated_at": at}
    if isinstance(event, Ticket.Assigned):
        row["handlers"] = {**row["handlers"], event.node: Assignment(event.node, event.kind, event.value, "").handler}
    elif isinstance(event, Ticket.Unassigned):
        row["handlers"] = {**row["handlers"], event.node: Assignment(event.node, QUEUE, event.queue, "").handler}
    elif isinstance(event, Ticket.Prioritized):
        row["priority"] = event.priority
    elif isinstance(event, Ticket.Stepped):
        status = event.progress["status"]
        row.update(
            status=status,
            nodes=_nodes(event.progress),
            progress=plain(event.progress),
            closed_at=(row["closed_at"] or at) if status == "closed" else None,
        )
    return row


def _nodes(progress: dict[str, Any]) -> list[str]:
    return [token["node"] for token in progress["tokens"]]


def priority_rank(row: Row) -> int:
    """Where the row sorts in every list: VIP first, then urgent, then normal."""
    return RANK.get(row.get("priority", "normal"), RANK["normal"])


def current_handlers(row: Row) -> list[str]:
    """Who handles the ticket now: the handlers of its open nodes (none once it is not open)."""
    if row["status"] != "open":
        return []
    return sorted({row["handlers"][n] for n in row["nodes"] if n in row["handlers"]})


def customer_keys(row: Row) -> list[str]:
    """Every identifier of the customer (a WeCom user id, an open id, a phone …), to find them by."""
    return sorted({str(v) for v in row["customer"].values() if isinstance(v, (str, int)) and str(v)})
