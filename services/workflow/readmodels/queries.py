"""Reading the ticket rows: a filtered list, kanban by node, my tickets, overdue, dashboard figures.

What a viewer sees of a row is decided by the same rule as a ticket's own view (sight.py): a value
hidden at the nodes they look through never leaves, in no part of a card; and a search by an
identifier the viewer may not see finds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from statistics import quantiles
from typing import Any
from collections.abc import Callable

from shared.merges import CustomerMerges

from services.workflow.assignment import QUEUE, Assignment
from services.workflow.customers import as_survivor
from services.workflow.readmodels import deadlines
from services.workflow.readmodels.rows import Row, current_handlers
from services.workflow.readmodels.store import ViewStore
from services.workflow.staff import Member
from services.workflow.templates.model import Template
from services.workflow.sight import Sight, sight

Templates = Callable[[str, str, int], Template]  # (tenant, key, version) -> that version
Sandboxed = Callable[[Row], Template]  # a row's ticket -> its process with its own sandbox changes
Merges = Callable[[str], CustomerMerges | None]  # tenant -> the customers intake merged
COLUMNS = {"status": "status", "template": "template", "region": "region"}  # filter -> column
KEYS = ("node", "handler", "customer")  # filters through ticket_row_keys
# Open, with a recorded breach or a running deadline at or before now (deadlines.py says why both).
OVERDUE = "(r.status = 'open' AND (r.sla_breached > 0 OR (r.sla_deadline IS NOT NULL AND r.sla_deadline <= ?)))"
# Every list and queue puts VIP tickets first, then urgent ones, then the rest (priority.py).
NEWEST, OLDEST_DEADLINE = (
    "r.priority_rank, r.created_at DESC, r.ticket_id",
    "r.priority_rank, r.sla_deadline, r.ticket_id",
)
OLDEST = "r.priority_rank, r.created_at, r.ticket_id"  # a queue: the longest waiting first
SEARCHED = 1000  # a search by customer looks at this many of their tickets at most


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    node: str | None = None
    handler: str | None = None
    region: str | None = None
    template: str | None = None
    customer: str | None = None
    created_from: str | None = None  # ISO 8601, inclusive
    created_to: str | None = None  # exclusive
    overdue: bool | None = None


def handles(handler: str, member: Member) -> bool:
    kind, _, value = handler.partition(":")
    if not value:
        return handler == member.user
    return Assignment("", kind, value, "").admits(member)


class Reader:
    def __init__(
        self,
        store: ViewStore,
        templates: Templates,
        clock: Callable[[], datetime],
        sandboxed: Sandboxed,
        merges: Merges = lambda tenant: None,
    ):
        self._store = store
        self._templates = templates
        self._sandboxed = sandboxed
        self._merges = merges
        self._clock = clock  # the application's: "overdue" is as of the same now that fires the timers

    def _now(self) -> str:
        return deadlines.utc(self._clock())

    def rows(
        self,
        tenant: str,
        filters: Filters,
        handlers: list[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        order: str = NEWEST,
    ) -> tuple[int, list[Row]]:
        """Matching rows (newest first) and how many match in all. `handlers`: any of them (my tickets).
        A customer is found by any of their identifiers, and by every id intake merged into theirs; each
        row shows the id of the customer who stays."""
        merges = self._merges(tenant)
        where, params = ["r.tenant = ?"], [tenant]
        for name, column in COLUMNS.items():
            if getattr(filters, name) is not None:
                where.append(f"r.{column} = ?")
                params.append(getattr(filters, name))
        for name in KEYS:
            wanted = getattr(filters, name)
            if wanted is not None:
                values = merges.known_as(wanted) if merges and name == "customer" else [wanted]
                where.append(
                    "EXISTS (SELECT 1 FROM {p}ticket_row_keys k WHERE k.ticket_id = r.ticket_id "
                    f"AND k.tenant = r.tenant AND k.kind = ? AND k.value IN ({', '.join('?' * len(values))}))"
                )
                params += [name, *values]
        if handlers is not None:
            marks = ", ".join("?" * len(handlers)) or "NULL"
            where.append(
                "EXISTS (SELECT 1 FROM {p}ticket_row_keys k WHERE k.ticket_id = r.ticket_id "
                f"AND k.tenant = r.tenant AND k.kind = 'handler' AND k.value IN ({marks}))"
            )
            params += handlers
        for bound, op in ((filters.created_from, ">="), (filters.created_to, "<")):
            if bound is not None:
                where.append(f"r.created_at {op} ?")
                params.append(bound)
        if filters.overdue is not None:
            where.append(OVERDUE if filters.overdue else f"NOT {OVERDUE}")
            params.append(self._now())
        clause = " AND ".join(where)
        total = self._store.query(f"SELECT COUNT(*) AS n FROM {{p}}ticket_rows r WHERE {clause}", params)[0]["n"]
        found = self._store.query(
            f"SELECT r.row FROM {{p}}ticket_rows r WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        rows = [json.loads(r["row"]) for r in found]
        if merges:
            rows = [{**row, "customer": as_survivor(row["customer"], merges)} for row in rows]
        return int(total), rows

    def queues(self, tenant: str) -> dict[str, int]:
        """Every unassigned queue ("queue:<role>[@<site>]") with open tickets waiting, and how many."""
        found = self._store.query(
            "SELECT k.value, COUNT(DISTINCT k.ticket_id) AS n FROM {p}ticket_row_keys k "
            "WHERE k.tenant = ? AND k.kind = 'handler' AND k.value LIKE ? "
            "GROUP BY k.value ORDER BY k.value",
            [tenant, f"{QUEUE}:%"],
        )
        return {r["value"]: int(r["n"]) for r in found}

    def unassigned(self, tenant: str, queues: list[str], limit: int = 100, offset: int = 0) -> tuple[int, list[Row]]:
        """The open tickets waiting in any of `queues`: the highest priority first, then the longest waiting."""
        return self.rows(tenant, Filters(status="open"), queues, limit=limit, offset=offset, order=OLDEST)

    def page(
        self,
        tenant: str,
        filters: Filters,
        viewer: Member | None,
        handlers: list[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        overdue: bool = False,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The cards of the matching rows as `viewer` may see them, and how many match in all. Searching
        by a customer identifier the viewer may not see at a ticket does not find that ticket. `overdue`:
        the overdue tickets, the oldest deadline first."""
        order = OLDEST_DEADLINE if overdue else NEWEST
        if overdue:
            filters = Filters(**{**vars(filters), "overdue": True})
        if filters.customer is None:
            total, rows = self.rows(tenant, filters, handlers, limit, offset, order)
            return total, [self.card(r, viewer) for r in rows]
        _, rows = self.rows(tenant, filters, handlers, SEARCHED, 0, order)
        found = [(self.sight(r, viewer), r) for r in rows]
        cards = [self.card(r, viewer, seen) for seen, r in found if not seen.hides(filters.customer)]
        return len(cards), cards[offset : offset + limit]

    def sight(self, row: Row, viewer: Member | None) -> Sight:
        """What `viewer` may see of the row's ticket."""
        template = self._templates(row["tenant"], row["template"], row["template_version"])
        if not set(row["nodes"]) <= {n.key for n in template.nodes}:  # at a node its sandbox inserted
            template = self._sandboxed(row)
        mine = [n for n in row["nodes"] if viewer and n in row["handlers"] and handles(row["handlers"][n], viewer)]
        return sight(template, mine or row["nodes"], bool(mine), row["progress"]["values"], row["customer"])

    def card(self, row: Row, viewer: Member | None, seen: Sight | None = None) -> dict[str, Any]:
        """A row as `viewer` may see it."""
        seen = seen or self.sight(row, viewer)
        return seen.shown(
            {
                key: row[key]
                for key in (
                    "id",
                    "template",
                    "template_version",
                    "status",
                    "nodes",
                    "region",
                    "channel",
                    "customer",
                    "description",
                    "created_at",
                    "updated_at",
                    "closed_at",
                )
            }
            | {
                "priority": row.get("priority", "normal"),
                "handlers": {n: row["handlers"][n] for n in row["nodes"] if n in row["handlers"]},
                "current_handlers": current_handlers(row),
                "values": row["progress"]["values"],
                "sla": self._sla(row),
            }
        )

    def _sla(self, row: Row) -> dict[str, Any]:
        sla, now = row["sla"], self._now()
        deadline = deadlines.earliest(sla)
        late = bool(deadlines.breached(sla)) or (deadline is not None and deadline <= now)
        return {
            "deadline": deadline,
            "overdue": row["status"] == "open" and late,
            "clocks": [{k: c[k] for k in ("node", "clock", "deadline", "breached")} for c in sla["running"]],
        }

    def kanban(
        self, tenant: str, template: Template, filters: Filters, viewer: Member | None, per_column: int = 50
    ) -> list[dict[str, Any]]:
        """The template's task nodes in order, each with the open tickets waiting there."""
        columns = []
        tasks = [n for n in template.nodes if n.kind == "task"]
        for node in tasks:
            each = Filters(**{**vars(filters), "status": "open", "template": template.key, "node": node.key})
            total, rows = self.rows(tenant, each, limit=per_column)
            columns.append(
                {"node": node.key, "name": node.name, "count": total, "tickets": [self.card(r, viewer) for r in rows]}
            )
        return columns + self._sandbox_columns(tenant, template, {n.key for n in tasks}, filters, viewer)

    def _sandbox_columns(
        self,
        tenant: str,
        template: Template,
        tasks: set[str],
        filters: Filters,
        viewer: Member | None,
        most: int = 1000,
    ) -> list[dict[str, Any]]:
        """Columns for the nodes single tickets' sandboxes inserted, after the template's own."""
        _, rows = self.rows(
            tenant, Filters(**{**vars(filters), "status": "open", "template": template.key}), limit=most
        )
        extra: dict[str, list[Row]] = {}
        for row in rows:
            for node in set(row["nodes"]) - tasks:
                extra.setdefault(node, []).append(row)
        columns = []
        for node, waiting in sorted(extra.items()):
            name = self._sandboxed(waiting[0]).node(node).name
            columns.append(
                {
                    "node": node,
                    "name": name,
                    "count": len(waiting),
                    "sandbox": True,
                    "tickets": [self.card(r, viewer) for r in waiting],
                }
            )
        return columns

    def dashboard(self, tenant: str, filters: Filters) -> dict[str, Any]:
        """Created, completed, completion rate, duration percentiles and SLA compliance, per region and per
        template."""
        clause, params = "tenant = ?", [tenant]
        for bound, op in ((filters.created_from, ">="), (filters.created_to, "<")):
            if bound is not None:
                clause += f" AND created_at {op} ?"
                params.append(bound)
        found = self._store.query(
            f"SELECT region, template, status, created_at, closed_at, sla_on_time, sla_missed "
            f"FROM {{p}}ticket_rows WHERE {clause}",
            params,
        )
        facts = [
            (
                r["region"] or "",
                r["template"],
                r["status"],
                r["created_at"],
                r["closed_at"],
                int(r["sla_on_time"]),
                int(r["sla_missed"]),
            )
            for r in found
        ]
        return {
            "total": figures(facts),
            "by_region": {k: figures([f for f in facts if f[0] == k]) for k in sorted({f[0] for f in facts})},
            "by_template": {k: figures([f for f in facts if f[1] == k]) for k in sorted({f[1] for f in facts})},
        }


def figures(facts: list[tuple]) -> dict[str, Any]:
    """`facts`: (region, template, status, created_at, closed_at, clocks on time, clocks missed).
    Completed: closed (not cancelled). SLA compliance: clocks kept / clocks decided (kept or missed)."""
    durations = sorted(
        (datetime.fromisoformat(f[4]) - datetime.fromisoformat(f[3])).total_seconds()
        for f in facts
        if f[2] == "closed" and f[4]
    )
    created, completed = len(facts), len(durations)
    on_time, missed = sum(f[5] for f in facts), sum(f[6] for f in facts)
    return {
        "created": created,
        "completed": completed,
        "cancelled": sum(f[2] == "cancelled" for f in facts),
        "open": sum(f[2] == "open" for f in facts),
        "completion_rate": round(completed / created, 4) if created else None,
        "duration_seconds": percentiles(durations),
        "sla": {"on_time": on_time, "missed": missed},
        "sla_compliance": round(on_time / (on_time + missed), 4) if on_time + missed else None,
    }


def percentiles(durations: list[float]) -> dict[str, float | None]:
    """p50, p90, p95 (inclusive method: a single value is every percentile)."""
    if not durations:
        return {"p50": None, "p90": None, "p95": None}
    if len(durations) == 1:
        return dict.fromkeys(("p50", "p90", "p95"), round(durations[0], 3))
    cuts = quantiles(durations, n=100, method="inclusive")
    return {f"p{q}": round(cuts[q - 1], 3) for q in (50, 90, 95)}
