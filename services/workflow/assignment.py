"""Who handles a node a ticket enters (派单), and why. No I/O here.

A node's handler rule names a user, a role or a department (a pool: any member may act or claim
the ticket), the supervisor of the previous handler, or an assignment rule. Assignment rules
(round robin, least loaded, nearest …) are strategies plugged into the Assigner by name: a rule
`<strategy>_<role>` (e.g. `least_loaded_technician`) picks among the members holding the role
(services/workflow/dispatch/). When nobody fits (a rule with no strategy or one that finds nobody,
a pool nobody belongs to, a previous handler with no supervisor) the node waits in the unassigned
queue (待派单队列) of the role it needed, at the ticket's site: dispatchers see it and claim or hand it
on. A chosen person who is absent or full falls back to their backup. Every Assignment says why it
was made (texts.py words it): the reason is recorded with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, UTC
from typing import Any
from collections.abc import Callable, Mapping

from services.workflow.dispatch.load import Load
from services.workflow.staff import Directory, Member
from services.workflow.templates.model import Node
from services.workflow.texts import say

POOLS = ("role", "department")
QUEUE = "queue"  # the unassigned queue: nobody fitted the node's rule
CLAIMABLE = POOLS + (QUEUE,)
DISPATCHERS = ("dispatcher", "supervisor", "admin")  # who sees every unassigned queue and claims from it


def queue_of(role: str, site: str | None) -> str:
    """An unassigned queue's name: the role it waits for, at a site when the ticket has one."""
    return f"{role}@{site}" if site else role


def pool_name(kind: str, value: str) -> str:
    """A pool or queue as a person reads it."""
    return say(f"pool.{kind}", value=value)


@dataclass(frozen=True)
class Assignment:
    node: str
    kind: str  # "user", a pool ("role" / "department"), or the unassigned "queue"
    value: str  # the user, role or department; a queue: "<role>" or "<role>@<site>"
    reason: str

    @property
    def handler(self) -> str:
        """As public events name it: a user id, or "role:<role>" / "department:<department>" /
        "queue:<role>[@<site>]"."""
        return self.value if self.kind == "user" else f"{self.kind}:{self.value}"

    def admits(self, member: Member) -> bool:
        if self.kind == "user":
            return member.user == self.value
        if self.kind == QUEUE:  # dispatchers, and whoever holds the role it waits for
            return bool(set(member.roles) & {*DISPATCHERS, self.value.partition("@")[0]})
        return self.value in (member.roles if self.kind == "role" else member.departments)

    def to_dict(self) -> dict[str, str]:
        return {"node": self.node, "kind": self.kind, "value": self.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Assignment:
        return cls(data["node"], data["kind"], data["value"], data["reason"])


@dataclass(frozen=True)
class Need:
    """What is known when a ticket enters a task node; strategies decide from it."""

    tenant: str
    node: Node
    directory: Directory
    previous: str | None = None  # the staff member whose action brought the ticket here; None on opening
    handled_before: str | None = None  # who last handled this node, when a return or reopen comes back to it
    values: Mapping[str, Any] = field(default_factory=dict)  # the ticket's field values (a location, a skill …)
    region: str | None = None
    # Set by the Assigner, not by the ticket:
    role: str = ""  # the role an assignment rule picks among (`least_loaded_technician`: technician)
    load: Load = field(default_factory=Load)  # the tenant's live load
    now: datetime = datetime.min.replace(tzinfo=UTC)


Strategy = Callable[[Need], "Assignment | None"]  # None: the strategy found nobody


@dataclass(frozen=True)
class Assigner:
    strategies: Mapping[str, Strategy] = field(default_factory=dict)  # strategy name -> strategy
    site_of: Callable[[Need], str | None] | None = None  # the site a ticket belongs to (its unassigned queue's)
    load: Load | None = None  # None: no load known (see `seeing`)
    now: datetime = datetime.min.replace(tzinfo=UTC)

    def seeing(self, load: Load, now: datetime) -> Assigner:
        """An assigner for one unit of work: it sees the tenant's load at `now` and adds to its own
        copy each assignment it makes, so that later ones in the same unit see the earlier ones."""
        return replace(self, load=load.copy(), now=now)

    def __call__(self, need: Need) -> Assignment:
        chosen = self._backed_up(need, self._choose(need))
        if chosen.kind == "user" and self.load is not None:
            self.load.assigned(chosen.value, self.now)
        return chosen

    def rule(self, name: str) -> tuple[Strategy | None, str]:
        """The strategy of an assignment rule `<strategy>_<role>`, and the role (the longest strategy
        name wins: `nearest_site_technician` is nearest_site among technicians); or a strategy
        registered under the rule's whole name."""
        if name in self.strategies:
            return self.strategies[name], ""
        for strategy in sorted(self.strategies, key=len, reverse=True):
            if name.startswith(strategy + "_") and len(name) > len(strategy) + 1:
                return self.strategies[strategy], name[len(strategy) + 1 :]
        return None, ""

    def _backed_up(self, need: Need, chosen: Assignment) -> Assignment:
        """An absent or full person's backup takes the ticket (and theirs, if they are away too)."""
        seen, current, why = {chosen.value}, chosen, []
        while current.kind == "user" and current.value in need.directory.members:
            member = need.directory.members[current.value]
            load = self.load or Load()
            trouble = (
                say("assign.absent")
                if member.profile.absent
                else (
                    say("assign.full", load=load.of(member.user), capacity=member.profile.capacity)
                    if load.of(member.user) >= member.profile.capacity
                    else None
                )
            )
            backup = member.profile.backup
            if trouble is None or backup is None or backup in seen:
                break
            why.append(say("assign.backup_step", user=member.user, backup=backup, trouble=trouble))
            seen.add(backup)
            current = replace(current, value=backup)
        return (
            current
            if current is chosen
            else replace(current, reason=say("assign.backup", reason=chosen.reason, why="；".join(why)))
        )

    def _choose(self, need: Need) -> Assignment:
        node, rule = need.node.key, need.node.handler
        if need.handled_before:
            return Assignment(node, "user", need.handled_before, say("assign.back", user=need.handled_before))
        if rule is None:  # every task of a validated template has a rule
            return self.nobody(need, "any", say("nobody.no_rule"))
        if rule.kind == "user":
            return Assignment(node, "user", rule.value, say("assign.named", user=rule.value))
        if rule.kind in POOLS:
            held = len(need.directory.pool(rule.kind, rule.value))
            if not held:
                return self.nobody(need, rule.value, say("nobody.empty_pool", pool=pool_name(rule.kind, rule.value)))
            return Assignment(
                node, rule.kind, rule.value, say("assign.pool", pool=pool_name(rule.kind, rule.value), count=held)
            )
        if rule.kind == "previous_supervisor":
            boss = need.directory.supervisor_of(need.previous)
            if boss:
                return Assignment(node, "user", boss, say("assign.supervisor", previous=need.previous, boss=boss))
            why = say("nobody.no_supervisor", previous=need.previous) if need.previous else say("nobody.no_previous")
            return self.nobody(need, "supervisor", why)
        strategy, role = self.rule(rule.value or "")
        # Only strategies look at the load (the need is copied for them alone: this runs per ticket).
        chosen = strategy(replace(need, role=role, load=self.load or Load(), now=self.now)) if strategy else None
        if chosen is not None:
            return chosen
        why = say("nobody.rule_found_nobody" if strategy else "nobody.rule_unavailable", rule=rule.value)
        return self.nobody(need, role or "any", why)

    def nobody(self, need: Need, role: str, why: str) -> Assignment:
        """Nobody fits: the unassigned queue of `role` at the ticket's site, and why."""
        site = self.site_of(need) if self.site_of else None
        name = say("queue.name", role=role, site=say("queue.site", site=site) if site else "")
        return Assignment(need.node.key, QUEUE, queue_of(role, site), say("nobody.queued", why=why, queue=name))
