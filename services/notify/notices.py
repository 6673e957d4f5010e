"""Who is told what about an event (the rules people expect from a work-order system). Pure: it reads
the event, what notify knows of the ticket and of the tenant's staff, and returns notices.

Staff: the handler a node is assigned to (or every member of the pool it enters; the dispatchers when
nobody fitted and it waits in the unassigned queue); on a transfer the
new handler and the one it was taken from; on a return the handler it comes back to; approaching and
breached SLAs to the handler and their supervisor; escalations to whom they name; a statement and the
earnings on it to the technician. Customers: accepted (with the ticket number), someone assigned to
handle it, completed (with an invitation to rate the service).

A staff message renders the ticket number, nodes, names, reasons and times, never a field value nor the
customer's own data (a template's field rules may hide those from its handler, and notify does not know
them): only messages to the customer have the customer's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts import ticket_number
from shared.envelope import Envelope

from services.notify.audience import TicketAudience
from services.notify.kinds import CUSTOMER
from services.notify.roster import Roster

QUEUE = "queue:"  # workflow's unassigned queues: "queue:<role>[@<site>]"
DISPATCHERS = "role:dispatcher"  # who takes tickets from them
SLA_ACTOR = "sla"  # workflow's name for escalations: ticket.escalated tells, not the assignment after it
CLOCKS = {"response": "响应", "resolution": "处理"}
TICKET_EVENTS = (
    "ticket.created",
    "ticket.opened",
    "ticket.transitioned",
    "ticket.assigned",
    "ticket.closed",
    "ticket.sla_warned",
    "ticket.sla_breached",
    "ticket.escalated",
    "ticket.unassigned",
    "settlement.statement_issued",
)


@dataclass(frozen=True)
class Notice:
    kind: str
    recipients: tuple[str, ...]  # staff user ids, pools ("role:x"), or CUSTOMER
    context: dict[str, Any] = field(default_factory=dict)
    node: str | None = None


@dataclass(frozen=True)
class Reading:
    """What an event says: the notices it causes, and where the ticket stands after it."""

    notices: list[Notice]
    handlers: dict[str, str] = field(default_factory=dict)
    entering: dict[str, str] = field(default_factory=dict)
    template: str | None = None


def read(envelope: Envelope, audience: TicketAudience, roster: Roster | None, zone: str) -> Reading:
    reading = _read(envelope, audience, roster, zone)
    name = {"customer_name": (audience.customer or {}).get("name", "")}
    reading.notices[:] = [
        replace(n, context={**n.context, **name}) if CUSTOMER in n.recipients else n for n in reading.notices
    ]
    return reading


def _read(envelope: Envelope, audience: TicketAudience, roster: Roster | None, zone: str) -> Reading:
    data, t = envelope.data, envelope.type
    base = {"number": ticket_number(envelope.subject), "ticket_id": str(envelope.subject), "tenant": envelope.tenant}
    name = roster.name_of if roster else (lambda user: user)
    if t == "ticket.created":
        return Reading([Notice("accepted", (CUSTOMER,), base)], template=data.get("template"))
    if t == "ticket.opened":
        node, handler = data["node"], data["handler"]
        notices = _assigned(node, handler, "assigned", {**base, "reason": data["reason"], "by": ""}, name)
        return Reading(notices, handlers={node: handler}, template=data["template"])
    if t == "ticket.transitioned":
        return Reading([], entering={n: data["action"] for n in data["to_nodes"]}, template=data["template"])
    if t == "ticket.assigned":
        return Reading(
            _reassigned(data, audience, {**base, "reason": data["reason"], "by": name(data["by"])}, name),
            handlers={data["node"]: data["handler"]},
        )
    if t in ("ticket.sla_warned", "ticket.sla_breached"):
        told = [data["handler"]] if data.get("handler") else []
        supervisor = roster.supervisor_of(data.get("handler")) if roster else None
        context = {
            **base,
            "clock": CLOCKS.get(data["clock"], ""),
            "target": data["target"],
            "deadline": _local(data["deadline"], zone),
            "handler": data.get("handler"),
        }
        kind = t.removeprefix("ticket.")
        return Reading(
            [Notice(kind, tuple(dict.fromkeys(told + ([supervisor] if supervisor else []))), context, data["node"])]
            if told
            else []
        )
    if t == "ticket.escalated":
        context = {**base, "reason": data["reason"], "vip": data["vip"]}
        return Reading([Notice("escalated", tuple(dict.fromkeys(data["to"])), context, data["node"])])
    if t == "ticket.unassigned":
        context = {**base, "node": data["node"], "reason": data["reason"], "queue": data["queue"]}
        return Reading([Notice("unassigned", (DISPATCHERS,), context, data["node"])])
    if t == "ticket.closed":
        return Reading([Notice("completed", (CUSTOMER,), base, data["to_node"])])
    if t == "settlement.statement_issued":  # each technician on it told of their own earnings
        return Reading(
            [
                Notice(
                    "statement",
                    (p["technician"],),
                    {**base, "total": data["gross"], "currency": data["currency"], "payout": p["total"]},
                )
                for p in data["payouts"]
            ]
        )
    return Reading([])


def _assigned(node: str, handler: str, kind: str, context: dict[str, Any], name) -> list[Notice]:
    """A node given to a handler: the handler is told (a pool: each member), and the customer when a
    person takes it on."""
    context = {**context, "node": node, "handler": name(handler)}
    if handler.startswith(QUEUE):
        return []  # nobody fitted: its ticket.unassigned tells the dispatchers
    if ":" in handler:
        pool_kind, _, pool = handler.partition(":")
        label = f"{'角色' if pool_kind == 'role' else '部门'} {pool} 的成员"
        return [Notice("pool", (handler,), {**context, "pool": label}, node)]
    return [
        Notice(kind, (handler,), context, node),
        Notice("technician_assigned", (CUSTOMER,), {**context, "technician": name(handler)}, node),
    ]


def _reassigned(data: dict[str, Any], audience: TicketAudience, context: dict[str, Any], name) -> list[Notice]:
    node, handler, by = data["node"], data["handler"], data["by"]
    if by == SLA_ACTOR:
        return []  # the escalation that did it was told
    if node in audience.entering:  # the step that entered the node assigned it
        kind = "returned" if audience.entering[node] == "return" else "assigned"
        return _assigned(node, handler, kind, context, name)
    previous = audience.handlers.get(node)
    if data["kind"] == "user" and handler == by:
        return []  # they claimed it themselves
    notices = _assigned(node, handler, "transferred", context, name)
    if previous and ":" not in previous and previous not in (handler, by):
        notices.append(Notice("handed_over", (previous,), {**context, "node": node, "handler": name(handler)}, node))
    return notices


def _local(instant: str | None, zone: str) -> str:
    if not instant:
        return "未知"
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M")
