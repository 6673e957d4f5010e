"""Who handles a node a ticket enters (派单), and why. No I/O here.

A node's handler rule names a user, a role or a department (a pool: any member may act or claim
the ticket), the supervisor of the previous handler, or an assignment rule. Assignment rules
(round robin, least loaded, nearest …) are strategies plugged into the Assigner by name; a rule
with no strategy yet, or one that finds nobody, falls back to the default handler. Every
Assignment says why it was made: the reason is recorded with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from services.workflow.staff import Directory, Member
from services.workflow.templates.model import Node

POOLS = ("role", "department")


@dataclass(frozen=True)
class Assignment:
    node: str
    kind: str  # "user", or a pool: "role" / "department"
    value: str
    reason: str

    @property
    def handler(self) -> str:
        """As public events name it: a user id, or "role:<role>" / "department:<department>"."""
        return self.value if self.kind == "user" else f"{self.kind}:{self.value}"

    def admits(self, member: Member) -> bool:
        if self.kind == "user":
            return member.user == self.value
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


Strategy = Callable[[Need], "Assignment | None"]  # None: the strategy found nobody


@dataclass(frozen=True)
class Assigner:
    default_handler: str  # SCRM_WORKFLOW_DEFAULT_HANDLER: when no rule finds anyone
    strategies: Mapping[str, Strategy] = field(default_factory=dict)  # assignment rule name -> strategy

    def __call__(self, need: Need) -> Assignment:
        node, rule = need.node.key, need.node.handler
        if need.handled_before:
            return Assignment(node, "user", need.handled_before, f"back to {need.handled_before}, who handled it before")
        if rule is None:  # the built-in default template names its handler; others are validated
            return self.fallback(node, "the node has no handler rule")
        if rule.kind == "user":
            return Assignment(node, "user", rule.value, f"the node names {rule.value}")
        if rule.kind in POOLS:
            held = len(need.directory.pool(rule.kind, rule.value))
            return Assignment(node, rule.kind, rule.value,
                              f"the pool of {rule.kind} {rule.value} ({held} member(s)): any of them may act or claim it")
        if rule.kind == "previous_supervisor":
            boss = need.directory.supervisor_of(need.previous)
            if boss:
                return Assignment(node, "user", boss, f"the supervisor of {need.previous}, the previous handler")
            return self.fallback(node, f"{need.previous or 'nobody'} handled it before and has no supervisor on record")
        strategy = self.strategies.get(rule.value or "")
        chosen = strategy(need) if strategy else None
        if chosen is not None:
            return chosen
        why = f"assignment rule {rule.value!r} " + ("found nobody" if strategy else "is not available yet")
        return self.fallback(node, why)

    def fallback(self, node: str, why: str) -> Assignment:
        return Assignment(node, "user", self.default_handler, f"{why}: the default handler")
