"""The Ticket (工单): it runs on one version of one template, through the engine. No I/O here.

Every action is checked in three steps, each naming its rule when it refuses: the actor must be
the handler of the node (rule `handler`: a named user, or a member of the role's or department's
pool), the node must allow the action (`node_actions`) and the fields it changes (`field_rules`).
The engine's new progress is then recorded as a fact: Edited, Transitioned or Closed, followed by
an Assigned for every task node the ticket entered, with the reason for that handler.

Process sandbox (流程沙箱, sandbox.py): a supervisor inserts, skips or re-handles a node for this
ticket alone (NodeInserted, NodeSkipped, HandlerOverridden); the ticket then runs on its effective
template, the published version with those changes.

SLA (时效): entering a task node with an SLA starts its clocks (SlaStarted, with every timer's due
instant); responding or leaving meets them (SlaMet); pause / resume shift them (SlaPaused,
SlaResumed); the timer worker fires what is due (SlaWarned, SlaBreached, Escalated). Instants come
in as `now`: nothing here reads the clock.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from dataclasses import replace
from typing import Any
from collections.abc import Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid, NotAllowed
from shared.numbers import quantity_problem

from services.workflow import sandbox
from services.workflow.assignment import CLAIMABLE, POOLS, QUEUE, Assigner, Assignment, Need, pool_name
from services.workflow.sla import clocks
from services.workflow.sla.clocks import NO_CLOCKS, Clock, Timer
from services.workflow.staff import Directory, Member
from services.workflow.templates import engine
from services.workflow.templates.model import Template
from services.workflow.templates.progress import Progress, Step
from services.workflow.texts import say

NOBODY = Directory()  # a directory that knows no one: only named users may act
SLA_ACTOR = "sla"  # who escalations are by, in the timeline and on Assigned
SYSTEM = "system"  # who what happens when a ticket opens is by
SANDBOX_ROLES = ("supervisor", "admin")  # who may change one ticket's process (rule `sandbox`)


def items(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalise recorded items: a code and a Decimal quantity within bounds each (shared/numbers.py)."""
    if not raw:
        raise Invalid("record at least one item")
    out = []
    for item in raw:
        try:
            quantity = Decimal(str(item["quantity"]))
        except InvalidOperation:
            raise Invalid("a quantity is a decimal number", code=item["code"]) from None
        problem = quantity_problem(quantity)
        if problem:
            raise Invalid(f"the quantity of {item['code']} {problem}", code=item["code"])
        out.append({"code": str(item["code"]), "quantity": quantity})
    return out


def _default_progress(status: str, node: str, passed: tuple[str, ...]) -> dict[str, Any]:
    """Where a ticket stood on the default template, for events recorded before templates."""
    return {
        "template": "default",
        "version": 1,
        "status": status,
        "made": 1,
        "regions": [],
        "values": {},
        "tokens": [{"id": "t1", "node": node, "path": list(passed), "region": None}],
        "history": list(dict.fromkeys(passed + (node,))),
    }


class Ticket(Aggregate):
    class Opened(Aggregate.Created):
        """v2: the ticket's progress on its template, and who handles each node it entered."""

        class_version = 2
        ticket_id: UUID
        tenant: str
        template: str
        template_version: int
        node: str  # the first node with a handler, and that handler (as ticket.opened says)
        handler: str
        reason: str
        customer: dict[str, Any]
        description: str
        channel: str
        region: str | None
        progress: dict[str, Any]
        happened: list[dict[str, Any]]
        assignments: list[dict[str, str]]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Opened before templates: every ticket entered 处理中 of the default template.
            node = state["node"]
            state.update(
                region=None,
                progress=_default_progress("open", node, (node,)),
                happened=[],
                assignments=[{"node": node, "kind": "user", "value": state["handler"], "reason": state["reason"]}],
            )

    class Stepped(Aggregate.Event):
        """An action done at `node`; `progress` is where the ticket stands afterwards."""

        tenant: str
        by: str
        action: str
        node: str
        progress: dict[str, Any]
        happened: list[dict[str, Any]]

        def apply(self, ticket: Ticket) -> None:
            ticket.progress = self.progress
            ticket.handled_by[self.node] = self.by

    class Edited(Stepped):
        """Field values changed; the ticket stayed where it was."""

    class Transitioned(Stepped):
        """The ticket moved (advance, approve, reject, return, reopen) or its status changed (cancel)."""

        from_nodes: list[str]
        to_nodes: list[str]

    class Closed(Stepped):
        """The ticket closed: it reached its end, or a handler closed it. v2: a Stepped event."""

        class_version = 2
        from_node: str
        to_node: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Closed before templates: 处理中 → 已完成 of the default template, by its handler.
            state.update(
                action="advance",
                node=state["from_node"],
                happened=[],
                progress=_default_progress("closed", state["to_node"], (state["from_node"],)),
            )

    class Assigned(Aggregate.Event):
        """Who handles `node` from now on, and why (a rule, a transfer, a claim from a pool)."""

        tenant: str
        node: str
        kind: str
        value: str
        reason: str
        by: str

        def apply(self, ticket: Ticket) -> None:
            ticket.assignments[self.node] = Assignment(self.node, self.kind, self.value, self.reason)

    class Unassigned(Aggregate.Event):
        """Nobody fitted `node`'s handler rule (`reason` says why): it waits in the unassigned queue
        `queue` ("<role>" or "<role>@<site>") for a dispatcher to claim or hand on."""

        tenant: str
        node: str
        queue: str
        reason: str
        by: str

        def apply(self, ticket: Ticket) -> None:
            ticket.assignments[self.node] = Assignment(self.node, QUEUE, self.queue, self.reason)

    class Prioritized(Aggregate.Event):
        """The ticket's priority (normal, urgent, vip; priority.py) from now on, and why. Recorded when
        a ticket opens with more than normal, and whenever a step changes it."""

        tenant: str
        priority: str
        why: str
        by: str

        def apply(self, ticket: Ticket) -> None:
            ticket.priority = self.priority

    class SandboxChanged(Aggregate.Event):
        """A change to this ticket's own process (see sandbox.py), `why` in the words of who made it."""

        tenant: str
        by: str
        node: str
        why: str

        def apply(self, ticket: Ticket) -> None:
            ticket.sandbox.append(self.change())

        def change(self) -> sandbox.Change:
            raise NotImplementedError

    class NodeInserted(SandboxChanged):
        """The task `node` (as `inserted` describes it) now follows `after`, for this ticket."""

        after: str
        inserted: dict[str, Any]

        def change(self) -> sandbox.Change:
            return sandbox.Change.from_dict(
                {"op": "insert", "node": self.node, "after": self.after, "inserted": self.inserted}
            )

    class NodeSkipped(SandboxChanged):
        """`node` is left out for this ticket: what led to it leads to `to`, its successor; `dropped` are
        the nodes only its other branches led to."""

        to: str
        dropped: list[str]

        def change(self) -> sandbox.Change:
            return sandbox.Change("skip", self.node)

    class HandlerOverridden(SandboxChanged):
        """`node` is handled by the rule `handler` for this ticket (`was`: the rule before)."""

        handler: dict[str, Any]
        was: dict[str, Any] | None

        def change(self) -> sandbox.Change:
            return sandbox.Change.from_dict({"op": "handler", "node": self.node, "handler": self.handler})

    class SlaEvent(Aggregate.Event):
        """A change to the SLA clocks of one visit of `node`; `next_due` is the ticket's earliest pending
        timer afterwards (None: nothing pending), for the timer worker's index."""

        tenant: str
        node: str
        visit: int
        next_due: datetime | None

        def apply(self, ticket: Ticket) -> None:
            ticket.sla = ticket.sla.applied(type(self).__name__, self.__dict__)

    class SlaStarted(SlaEvent):
        """The ticket entered `node`: its clocks (response, resolution) with every timer and due instant."""

        rule: str  # which targets applied: "default" or "region <path>"
        vip: bool
        at: datetime
        clocks: list[dict[str, Any]]

    class SlaMet(SlaEvent):
        """A clock stopped: the handler responded, the ticket left the node, or it closed or was cancelled."""

        clock: str
        how: str  # responded | left | closed | cancelled
        at: datetime
        deadline: datetime | None
        on_time: bool

    class SlaPaused(SlaEvent):
        """Waiting for the customer: the node's clocks stop; `consumed` is the working time each had used."""

        by: str
        at: datetime
        consumed: dict[str, float]

    class SlaResumed(SlaEvent):
        """The clocks run again, every pending timer moved on by the paused working time."""

        by: str
        at: datetime
        dues: dict[str, dict[str, datetime]]
        deadlines: dict[str, datetime | None]

    class SlaFired(SlaEvent):
        """A timer of `clock` fired at or after its `due` instant (`at`), once."""

        clock: str
        timer: str
        due: datetime
        at: datetime
        deadline: datetime | None
        target: str
        handler: str | None

    class SlaWarned(SlaFired):
        """The deadline is near (the template's warn_before)."""

    class SlaBreached(SlaFired):
        """The deadline passed without the target being met."""

    class Escalated(SlaFired):
        """A step of the escalation chain after a breach (remind, notify_supervisor, reassign), or a VIP reminder."""

        step: int | None  # the escalation step; None for a VIP reminder
        action: str  # remind | notify_supervisor | reassign
        to: list[str]  # who is told (for reassign: the new handler)
        reason: str
        vip: bool

    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return ticket_id  # the id intake derived from the submission

    @event(Opened)
    def __init__(
        self,
        ticket_id: UUID,
        tenant: str,
        template: str,
        template_version: int,
        node: str,
        handler: str,
        reason: str,
        customer: dict[str, Any],
        description: str,
        channel: str,
        region: str | None,
        progress: dict[str, Any],
        happened: list[dict[str, Any]],
        assignments: list[dict[str, str]],
    ):
        self.tenant = tenant
        self.template = template
        self.template_version = template_version
        self.customer = customer
        self.description = description
        self.channel = channel
        self.region = region
        self.progress = progress  # JSON (Progress.to_dict); Progress.from_dict needs the template
        self.assignments = {a["node"]: Assignment.from_dict(a) for a in assignments}  # latest per node
        self.handled_by: dict[str, str] = {}  # node -> the last staff member who acted there
        self.sla = NO_CLOCKS
        self.sandbox: list[sandbox.Change] = []  # this ticket's own changes to its template, in order
        self.parts: dict[str, Decimal] = {}  # code -> quantity consumed and not returned
        self.priority = "normal"  # Prioritized

    @classmethod
    def open(
        cls,
        ticket_id: UUID,
        tenant: str,
        template: Template,
        customer: dict[str, Any],
        description: str,
        channel: str,
        assigner: Assigner,
        staff: Directory = NOBODY,
        region: str | None = None,
        values: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Ticket:
        """Enter the template's first node(s) with the `values` a form sent (Invalid if the template refuses
        them). A channel cannot ask for every field: required ones may stay empty for the handlers to fill in.
        `now` starts the SLA clocks (when the ticket was raised)."""
        progress, happened = engine.start(template, values, complete=False)
        assignments = [
            assigner(Need(tenant, template.node(node), staff, values=progress.values, region=region))
            for node in _entered_tasks(template, None, progress)
        ]
        first = assignments[0]  # a template starts at a task, or a split into tasks (validated)
        # _create, as eventsourcing documents for a named created event: calling the class would first
        # match these arguments against __init__'s signature, on every ticket of a backlog.
        ticket = cls._create(
            cls.Opened,
            id=ticket_id,
            ticket_id=ticket_id,
            tenant=tenant,
            template=template.key,
            template_version=template.version,
            node=first.node,
            handler=first.handler,
            reason=first.reason,
            customer=customer,
            description=description,
            channel=channel,
            region=region,
            progress=progress.to_dict(),
            happened=[h.to_dict() for h in happened],
            assignments=[a.to_dict() for a in assignments],
        )
        for assignment in assignments:
            if assignment.kind == QUEUE:
                ticket._assign(assignment, SYSTEM)
        ticket._prioritize(template, progress.values, SYSTEM)
        ticket._start_clocks(template, [a.node for a in assignments], now)
        return ticket

    def copy(self) -> Ticket:
        """A copy to act on while this one is read elsewhere: what events change in place is copied."""
        twin = object.__new__(type(self))  # copy.copy's way, without its reduce protocol (per action)
        twin.__dict__.update(
            self.__dict__,
            handled_by=dict(self.handled_by),
            assignments=dict(self.assignments),
            sandbox=list(self.sandbox),
            parts=dict(self.parts),
            _pending_events=[],
        )
        return twin

    # --- where it stands --------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.progress["status"]

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @property
    def nodes(self) -> list[str]:
        """The nodes the ticket waits at (tasks), or finished at (ends)."""
        return [token["node"] for token in self.progress["tokens"]]

    @property
    def node(self) -> str | None:
        return self.nodes[0] if self.nodes else None

    @property
    def handler(self) -> str | None:
        assignment = self.assignment_at(self.node) if self.node else None
        return assignment.handler if assignment else None

    def assignment_at(self, node: str) -> Assignment | None:
        """Who handles an active node; at an end node, whoever handled the task the ticket left for it
        (they may reopen it)."""
        token = next((t for t in self.progress["tokens"] if t["node"] == node), None)
        if token is None:
            return None
        if node in self.assignments:
            return self.assignments[node]
        return self.assignments.get(token["path"][-1]) if token["path"] else None

    def nodes_for(self, member: Member) -> list[str]:
        """The active nodes `member` may act at."""
        return [node for node in self.nodes if (a := self.assignment_at(node)) is not None and a.admits(member)]

    # --- staff actions -----------------------------------------------------------------

    def act(
        self,
        template: Template,
        action: str,
        by: str,
        assigner: Assigner,
        staff: Directory = NOBODY,
        node: str | None = None,
        values: Mapping[str, Any] | None = None,
        to: str | None = None,
        handler: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> None:
        """Do an engine action (or `claim`, `pause`, `resume`) at `node` (by default the one node `by`
        handles). `now` is when: it meets, starts and pauses SLA clocks."""
        member = staff.member(by)
        before = Progress.from_dict(self.progress, template)
        if action == "reopen" and set(member.roles) & set(template.reopen.roles):  # anywhere it ended
            if values or to or handler:
                raise Invalid("a reopen takes no field values, node to go to or handler: the template names where")
            node = self._current(node)
            after, happened = engine.reopen(template, before, node)
        else:
            node = self._node_for(member, node)
            if action == "claim":
                self._claim(member, node)
                return self._responded(node, now)
            if action in ("pause", "resume"):
                return self._pause_or_resume(template, action, member, node, now)
            if (handler is not None) != (action == "transfer"):
                raise Invalid("a transfer, and only a transfer, names the new handler")
            after, happened = engine.act(
                template, before, action, node, values, to
            )  # refuses what the node does not allow
            if action == "transfer":  # the engine moves nothing: the new handler is the fact
                return self._transfer(member, node, handler, staff)
        self._record(template, before, Step(after, happened), action, member, node)
        if action == "edit":
            self._responded(node, now)
        entered = _entered_tasks(template, before, after)
        for task in entered:
            back = self.handled_by.get(task) if action in ("return", "reopen") else None
            self._assign(
                assigner(
                    Need(
                        self.tenant,
                        template.node(task),
                        staff,
                        previous=by,
                        handled_before=back,
                        values=after.values,
                        region=self.region,
                    )
                ),
                by,
            )
        if after.values != before.values:
            self._prioritize(template, after.values, by)
        self._sync_clocks(template, before, entered, now)

    def _current(self, node: str | None) -> str:
        """`node`, one of the ticket's current nodes (by default its first)."""
        node = node or self.node
        if node not in self.nodes:
            raise Conflict(f"the ticket is not at node {node!r} (it is at {', '.join(self.nodes) or 'no node'})")
        return node

    def _assign(self, chosen: Assignment, by: str) -> None:
        """Who handles a node the ticket entered: a person or a pool (Assigned), or nobody fitted and it
        waits in an unassigned queue (Unassigned, saying why)."""
        if chosen.kind == QUEUE:
            self.trigger_event(
                self.Unassigned, tenant=self.tenant, node=chosen.node, queue=chosen.value, reason=chosen.reason, by=by
            )
        else:
            self._assigned(tenant=self.tenant, **chosen.to_dict(), by=by)

    def _prioritize(self, template: Template, values: Mapping[str, Any], by: str) -> None:
        priority, why = template.priority.decide(self.customer, values, self.description)
        if priority != self.priority:
            self.trigger_event(self.Prioritized, tenant=self.tenant, priority=priority, why=why, by=by)

    def _node_for(self, member: Member, node: str | None) -> str:
        if node is None:
            mine = self.nodes_for(member)
            if len(mine) == 1:
                return mine[0]
            if mine:
                raise Invalid(f"say at which node you act: {', '.join(mine)}", nodes=mine)
            raise NotAllowed(
                f"{member.user} handles none of the ticket's current nodes ({', '.join(self.nodes) or 'none'})",
                rule="handler",
            )
        assignment = self.assignment_at(node)
        if assignment is None:
            raise Conflict(f"the ticket is not at node {node!r} (it is at {', '.join(self.nodes) or 'no node'})")
        if not assignment.admits(member):
            raise NotAllowed(
                f"only {_who(assignment)} may act at node {node!r}",
                rule="handler",
                node=node,
                handler=assignment.handler,
            )
        return node

    def _record(self, template: Template, before: Progress, step: Step, action: str, member: Member, node: str) -> None:
        common = {
            "tenant": self.tenant,
            "by": member.user,
            "action": action,
            "node": node,
            "progress": step.progress.to_dict(),
            "happened": [h.to_dict() for h in step.happened],
        }
        left = [t.node for t in before.tokens if t not in step.progress.tokens]
        entered = [t.node for t in step.progress.tokens if t not in before.tokens]
        if step.progress.status == "closed" and before.status != "closed":
            self.trigger_event(self.Closed, from_node=node, to_node=(entered or [node])[-1], **common)
        elif action == "edit":
            self.trigger_event(self.Edited, **common)
        else:
            self.trigger_event(self.Transitioned, from_nodes=left, to_nodes=entered, **common)

    def _transfer(self, member: Member, node: str, handler: Mapping[str, str], staff: Directory) -> None:
        kind, value = handler.get("kind"), handler.get("value")
        if kind not in ("user",) + POOLS or not value:
            raise Invalid("transfer to a user, a role or a department: {kind, value}")
        staff.check_handler(kind, value)  # never to someone who is not there
        was = self.assignments[node].handler
        self._assigned(
            tenant=self.tenant,
            node=node,
            kind=kind,
            value=value,
            reason=say("assign.transferred", by=member.user, was=was),
            by=member.user,
        )

    def _claim(self, member: Member, node: str) -> None:
        pool = self.assignment_at(node)
        if self.status != "open" or pool.kind not in CLAIMABLE:
            raise Conflict(f"node {node!r} is not waiting in a pool or queue (it is handled by {pool.handler})")
        self._assigned(
            tenant=self.tenant,
            node=node,
            kind="user",
            value=member.user,
            reason=say("assign.claimed", by=member.user, pool=pool_name(pool.kind, pool.value)),
            by=member.user,
        )

    @event(Assigned)
    def _assigned(self, tenant: str, node: str, kind: str, value: str, reason: str, by: str) -> None:
        pass  # Assigned.apply

    # --- process sandbox (流程沙箱) ---------------------------------------------------------

    def change_process(
        self,
        template: Template,
        change: sandbox.Change,
        by: str,
        assigner: Assigner,
        staff: Directory = NOBODY,
        why: str = "",
    ) -> None:
        """Apply `change` to this ticket's (effective) `template`: Invalid with the problems if the result
        is no valid template. A new handler rule for a node the ticket is at assigns it again now."""
        member = staff.member(by)
        if not set(member.roles) & set(SANDBOX_ROLES):
            raise NotAllowed(
                f"only a member with the role {' or '.join(SANDBOX_ROLES)} may change one ticket's "
                f"process; {by} has {', '.join(member.roles) or 'no role'}",
                rule="sandbox",
                roles=list(SANDBOX_ROLES),
            )
        if self.status != "open":
            raise Conflict(f"the ticket is {self.status}")
        passed = {node for token in self.progress["tokens"] for node in token["path"]}
        if change.op == "skip" and change.node in set(self.nodes) | passed:
            raise Conflict(
                f"node {change.node!r} cannot be skipped: the ticket is at it or may return to it", node=change.node
            )
        after = sandbox.effective(template, [change])
        kept = {node.key for node in after.nodes}
        gone = [node for node in self.nodes if node not in kept]
        if gone:
            raise Conflict(f"the ticket is at {', '.join(gone)}, which this change would leave out", nodes=gone)
        common = {"tenant": self.tenant, "by": by, "node": change.node, "why": why}
        if change.op == "insert":
            self.trigger_event(self.NodeInserted, after=change.after, inserted=change.inserted.to_dict(), **common)
        elif change.op == "skip":
            dropped = [n.key for n in template.nodes if n.key not in kept | {change.node}]
            self.trigger_event(
                self.NodeSkipped, to=sandbox.successor_of(template, change.node), dropped=dropped, **common
            )
        else:
            if change.handler.kind in ("user",) + POOLS:
                staff.check_handler(change.handler.kind, change.handler.value)
            was = template.node(change.node).handler
            self.trigger_event(
                self.HandlerOverridden, handler=change.handler.to_dict(), was=was.to_dict() if was else None, **common
            )
            if change.node in self.nodes:
                self._assign_again(after, change.node, by, assigner, staff, why)

    def _assign_again(
        self, template: Template, node: str, by: str, assigner: Assigner, staff: Directory, why: str
    ) -> None:
        """The node's new handler rule takes over now; the previous handler (for previous_supervisor) is
        whoever acted at the task before it."""
        path = next(t["path"] for t in self.progress["tokens"] if t["node"] == node)
        previous = self.handled_by.get(path[-2]) if len(path) > 1 else None
        chosen = assigner(
            Need(
                self.tenant,
                template.node(node),
                staff,
                previous=previous,
                values=Progress.from_dict(self.progress, template).values,
                region=self.region,
            )
        )
        reason = say("assign.sandbox", by=by, why=f"（{why}）" if why else "", reason=chosen.reason)
        self._assign(replace(chosen, reason=reason), by)

    # --- SLA clocks ----------------------------------------------------------------------

    def _sla_event(self, event_class: type, **data: Any) -> None:
        data["tenant"] = self.tenant
        data["next_due"] = self.sla.applied(event_class.__name__, data).next_due()
        self.trigger_event(event_class, **data)

    def _start_clocks(self, template: Template, nodes: list[str], now: datetime | None) -> None:
        for node in nodes:
            sla = template.node(node).sla
            if sla is None:
                continue
            if now is None:
                raise ValueError(f"node {node!r} has an SLA: say when (now) the ticket entered it")
            vip = bool(sla.vip and sla.vip.applies(self.customer, Progress.from_dict(self.progress, template).values))
            self._sla_event(
                self.SlaStarted,
                **clocks.start(
                    sla,
                    template.business_calendar,
                    node,
                    self.sla.visits.get(node, 0) + 1,
                    now,
                    self.region,
                    vip,
                    self.priority,
                ),
            )

    def _sync_clocks(self, template: Template, before: Progress, entered: list[str], now: datetime | None) -> None:
        """After a step: stop the clocks of nodes the ticket left (or re-entered, or of every node when
        it closed or was cancelled), then start those of the task nodes it entered (or of every current
        task when a reopen brought a closed ticket back)."""
        active = [n for n in self.nodes if self.status == "open" and template.node(n).kind == "task"]
        for clock in self.sla.clocks:
            if clock.node not in active or clock.node in entered:  # closed or cancelled while there, or left
                moved = clock.node not in self.nodes or clock.node in entered
                self._met(clock, "left" if moved or self.status == "open" else self.status, now)
        reopened = active if before.status != "open" and self.status == "open" else []
        self._start_clocks(template, list(dict.fromkeys(entered + reopened)), now)

    def _met(self, clock: Clock, how: str, now: datetime | None) -> None:
        if now is None:
            raise ValueError(f"node {clock.node!r} has a running SLA clock: say when (now) it stopped")
        on_time = not clock.breached and (clock.deadline is None or now <= clock.deadline)
        self._sla_event(
            self.SlaMet,
            node=clock.node,
            visit=clock.visit,
            clock=clock.kind,
            how=how,
            at=now,
            deadline=clock.deadline,
            on_time=on_time,
        )

    def _responded(self, node: str, now: datetime | None) -> None:
        clock = self.sla.clock(node, "response")
        if clock is not None and self.status == "open":
            self._met(clock, "responded", now)

    def _pause_or_resume(
        self, template: Template, action: str, member: Member, node: str, now: datetime | None
    ) -> None:
        sla = template.node(node).sla
        if sla is None or not sla.pausable:
            raise NotAllowed(
                f"{action!r} is not allowed at node {template.node(node).name!r}: its SLA does not "
                "pause while waiting for the customer",
                rule="node_actions",
                node=node,
                action=action,
            )
        if self.status != "open":
            raise Conflict(f"the ticket is {self.status}")
        self._responded(node, now)  # whoever pauses or resumes has answered
        running = self.sla.at(node)
        paused = bool(running) and all(c.paused for c in running)
        if action == "pause" and running and not paused:
            self._sla_event(
                self.SlaPaused, by=member.user, **clocks.pause(self.sla, template.business_calendar, node, now)
            )
        elif action == "resume" and paused:
            self._sla_event(
                self.SlaResumed, by=member.user, **clocks.resume(self.sla, template.business_calendar, node, now)
            )
        elif action == "resume" or not running:
            raise Conflict(f"the SLA at node {node!r} is {'not paused' if running else 'not running'}")
        else:
            raise Conflict(f"the SLA at node {node!r} is paused already")

    def fire_timers(self, template: Template, staff: Directory, now: datetime) -> int:
        """Record every SLA timer due at `now`, in order, each once (its key joins the clock's `fired`).
        How many fired; 0 when nothing was due (another process may have fired them)."""
        fired = 0
        while due := self.sla.due(now):
            clock, timer = due[0]
            self._fire(template, staff, clock, timer, now)
            fired += 1
        return fired

    def _fire(self, template: Template, staff: Directory, clock: Clock, timer: Timer, now: datetime) -> None:
        assignment = self.assignment_at(clock.node)
        handler = assignment.handler if assignment else None
        common = {
            "node": clock.node,
            "visit": clock.visit,
            "clock": clock.kind,
            "timer": timer.key,
            "due": timer.due,
            "at": now,
            "deadline": clock.deadline,
            "target": clock.target,
            "handler": handler,
        }
        if timer.key == "warn":
            return self._sla_event(self.SlaWarned, **common)
        if timer.key == "breach":
            return self._sla_event(self.SlaBreached, **common)
        sla = template.node(clock.node).sla
        missed = say(
            "sla.missed", node=template.node(clock.node).name, clock=say(f"sla.{clock.kind}"), target=clock.target
        )
        if timer.key.startswith("vip."):
            k = int(timer.key.split(".")[1])
            return self._sla_event(
                self.Escalated,
                **common,
                step=None,
                action="remind",
                to=[handler] if handler else [],
                reason=say("sla.vip_reminder", missed=missed, k=k, times=sla.vip.times, handler=handler),
                vip=True,
            )
        index = int(timer.key.split(".")[1])
        step = sla.escalation[index]
        if step.do == "remind":
            to, reason = [handler] if handler else [], say("sla.remind", missed=missed, handler=handler)
        elif step.do == "notify_supervisor":
            boss = staff.supervisor_of(assignment.value) if assignment and assignment.kind == "user" else None
            fallback = Assignment(clock.node, step.to["kind"], step.to["value"], "").handler if step.to else None
            to = [boss or fallback] if boss or fallback else []
            reason = (
                say("sla.tell_supervisor", missed=missed, boss=boss, handler=handler)
                if boss
                else say("sla.no_supervisor_fallback", missed=missed, handler=handler, fallback=fallback)
                if fallback
                else say("sla.no_supervisor", missed=missed, handler=handler)
            )
        else:  # reassign to the backup handler
            backup = Assignment(clock.node, step.to["kind"], step.to["value"], "")
            to, reason = [backup.handler], say("sla.reassigned", missed=missed, handler=handler, backup=backup.handler)
        self._sla_event(self.Escalated, **common, step=index, action=step.do, to=to, reason=reason, vip=False)
        if step.do == "reassign" and self.status == "open":
            self._assigned(
                tenant=self.tenant,
                node=clock.node,
                kind=step.to["kind"],
                value=step.to["value"],
                reason=say("sla.escalation", reason=reason),
                by=SLA_ACTOR,
            )

    # --- parts and labour (备件, 项目), at a node one handles ---------------------------

    def consume_parts(
        self, by: str, raw_items: list[dict[str, Any]], staff: Directory = NOBODY, now: datetime | None = None
    ) -> None:
        self._check_may_record(staff.member(by))
        self._parts_consumed(tenant=self.tenant, by=by, items=items(raw_items))
        for node in self.nodes_for(staff.member(by)):
            self._responded(node, now)

    @event("PartsConsumed")
    def _parts_consumed(self, tenant: str, by: str, items: list[dict[str, Any]]) -> None:
        for item in items:
            self.parts[item["code"]] = self.parts.get(item["code"], 0) + item["quantity"]

    def return_parts(self, by: str, raw_items: list[dict[str, Any]], staff: Directory = NOBODY) -> None:
        """Parts consumed on this ticket and not used, back to the warehouse: at most what it consumed."""
        self._check_may_record(staff.member(by))
        returned = items(raw_items)
        totals: dict[str, Decimal] = {}
        for item in returned:
            totals[item["code"]] = totals.get(item["code"], 0) + item["quantity"]
        over = {
            code: str(self.parts.get(code, 0))
            for code, quantity in totals.items()
            if quantity > self.parts.get(code, 0)
        }
        if over:
            raise Invalid(
                "return at most what this ticket consumed: "
                + ", ".join(f"{code} ({left} left)" for code, left in over.items()),
                consumed=over,
            )
        self._parts_returned(tenant=self.tenant, by=by, items=returned)

    @event("PartsReturned")
    def _parts_returned(self, tenant: str, by: str, items: list[dict[str, Any]]) -> None:
        for item in items:
            self.parts[item["code"]] -= item["quantity"]

    def record_labour(
        self, by: str, raw_items: list[dict[str, Any]], staff: Directory = NOBODY, now: datetime | None = None
    ) -> None:
        self._check_may_record(staff.member(by))
        self._labour_recorded(tenant=self.tenant, by=by, items=items(raw_items))
        for node in self.nodes_for(staff.member(by)):
            self._responded(node, now)

    @event("LabourRecorded")
    def _labour_recorded(self, tenant: str, by: str, items: list[dict[str, Any]]) -> None:
        pass

    def _check_may_record(self, member: Member) -> None:
        if self.status != "open":
            raise Conflict(f"the ticket is {self.status}")
        if not self.nodes_for(member):
            raise NotAllowed(
                "only the handler of one of the ticket's current nodes may record parts and labour",
                rule="handler",
                handlers=[a.handler for n in self.nodes if (a := self.assignment_at(n))],
            )


def _entered_tasks(template: Template, before: Progress | None, after: Progress) -> list[str]:
    """The task nodes a step (or the opening, with no `before`) put the ticket into: each needs a handler."""
    old = before.tokens if before else ()
    return [t.node for t in after.tokens if t not in old and template.node(t.node).kind == "task"]


def _who(assignment: Assignment) -> str:
    return assignment.value if assignment.kind == "user" else f"members of {assignment.kind} {assignment.value}"
