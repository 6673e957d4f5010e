"""A template (工单模板): the fields a ticket records, its nodes (节点) and the transitions between them.

Plain frozen values with JSON `to_dict` / `from_dict`, the same for every tenant; a catalogue
(catalogue.py) keeps them per tenant and version. The first node is where tickets start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar
from collections.abc import Callable

from shared.errors import Invalid, NotFound

from services.workflow.priority import PriorityRule
from services.workflow.sla.calendar import Calendar
from services.workflow.sla.rules import NodeSla
from services.workflow.templates.expressions import Expression, parse
from shared.formfields.fields import Field

ACTIONS = ("view", "edit", "advance", "return", "transfer", "approve", "reject", "close", "cancel", "reopen")
LEAVING_ACTIONS = ("advance", "approve", "reject")  # the actions that take a transition
NODE_KINDS = ("task", "split", "join", "end")
JOIN_MODES = ("all", "any")
# Who handles a node, resolved later by assignment: the value names the user, role, department or rule.
HANDLER_KINDS = ("user", "role", "department", "previous_supervisor", "assignment_rule")
T = TypeVar("T")
DEFAULT_CALENDAR = Calendar()
REOPEN_ROLES = ("supervisor", "admin")  # who may reopen a closed or cancelled ticket, unless the template says


@dataclass(frozen=True)
class Reopening:
    """Who may reopen a closed (or cancelled) ticket wherever it ended, and the task it goes back to
    (None: the last task it passed, or the task it was closed at). A node's handler may also reopen
    where the node's actions allow it."""

    roles: tuple[str, ...] = REOPEN_ROLES
    to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"roles": list(self.roles)} | ({"to": self.to} if self.to else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reopening:
        unknown = set(data) - {"roles", "to"}
        if unknown:
            raise TypeError(f"unknown keys {', '.join(sorted(unknown))} in reopen")
        return cls(tuple(data.get("roles", REOPEN_ROLES)), data.get("to"))


@dataclass(frozen=True)
class HandlerRule:
    kind: str
    value: str | None = None  # not needed for previous_supervisor

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind} if self.value is None else {"kind": self.kind, "value": self.value}


@dataclass(frozen=True)
class FieldRules:
    """How a node shows each field. Unlisted fields are read-only there. A required field must
    have a value before the ticket leaves the node, and is editable unless also listed read-only."""

    hidden: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    editable: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def access(self, key: str) -> str:
        if key in self.hidden:
            return "hidden"
        if key in self.editable or (key in self.required and key not in self.read_only):
            return "editable"
        return "read_only"

    def mentioned(self) -> set[str]:
        return set(self.hidden) | set(self.read_only) | set(self.editable) | set(self.required)

    def to_dict(self) -> dict[str, list[str]]:
        return {rule: list(keys) for rule, keys in vars(self).items() if keys}


@dataclass(frozen=True)
class Node:
    key: str
    name: str
    kind: str = "task"
    handler: HandlerRule | None = None  # tasks only; split, join and end pass by themselves
    actions: tuple[str, ...] = ()
    fields: FieldRules = field(default_factory=FieldRules)
    join: str = "all"  # joins only: fire when all incoming branches are done, or the first
    sla: NodeSla | None = None  # tasks only: response / resolution targets, warnings, escalation

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "name": self.name, "kind": self.kind}
        if self.handler:
            data["handler"] = self.handler.to_dict()
        if self.actions:
            data["actions"] = list(self.actions)
        if self.fields.mentioned():
            data["fields"] = self.fields.to_dict()
        if self.kind == "join":
            data["join"] = self.join
        if self.sla:
            data["sla"] = self.sla.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        handler = data.get("handler")
        rules = {rule: tuple(keys) for rule, keys in data.get("fields", {}).items()}
        return cls(
            **{
                **data,
                "handler": HandlerRule(**handler) if handler else None,
                "actions": tuple(data.get("actions", ())),
                "fields": FieldRules(**rules),
                "sla": NodeSla.from_dict(data["sla"]) if data.get("sla") else None,
            }
        )


@dataclass(frozen=True)
class Transition:
    """From one node to another: taken by `advance`, or by `approve` / `reject` when `on` says so.
    Among a node's transitions for one action the first whose condition holds wins, else the
    one without a condition (the default branch)."""

    source: str
    target: str
    condition: str | None = None
    on: str = "advance"

    @cached_property
    def expression(self) -> Expression | None:
        return None if self.condition is None else parse(self.condition)

    def to_dict(self) -> dict[str, Any]:
        data = {"from": self.source, "to": self.target}
        return (
            data
            | ({"if": self.condition} if self.condition else {})
            | ({"on": self.on} if self.on != "advance" else {})
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transition:
        known = {"from": "source", "to": "target", "if": "condition", "on": "on"}
        unknown = set(data) - set(known)
        if unknown:
            raise TypeError(f"unknown keys {', '.join(sorted(unknown))}")
        return cls(**{known[key]: value for key, value in data.items()})


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    version: int = 0  # 0 until published; the catalogue numbers versions
    fields: tuple[Field, ...] = ()
    nodes: tuple[Node, ...] = ()
    transitions: tuple[Transition, ...] = ()
    variant_of: str | None = None  # a regional variant of that template key …
    regions: tuple[str, ...] = ()  # … used for tickets in these regions (see catalogue.select)
    calendar: Calendar | None = None  # the business calendar SLA targets count; None: office hours in Asia/Shanghai
    reopen: Reopening = Reopening()
    priority: PriorityRule = PriorityRule()

    @property
    def business_calendar(self) -> Calendar:
        return self.calendar or DEFAULT_CALENDAR

    @property
    def first(self) -> Node:
        return self.nodes[0]

    def node(self, key: str) -> Node:
        for node in self.nodes:
            if node.key == key:
                return node
        raise NotFound(f"template {self.key!r} has no node {key!r}", node=key)

    def outgoing(self, key: str, on: str | None = None) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.source == key and on in (None, t.on))

    def incoming(self, key: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.target == key)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "key": self.key,
            "name": self.name,
            "version": self.version,
            "fields": [f.to_dict() for f in self.fields],
            "nodes": [n.to_dict() for n in self.nodes],
            "transitions": [t.to_dict() for t in self.transitions],
        }
        if self.variant_of:
            data |= {"variant_of": self.variant_of, "regions": list(self.regions)}
        if self.calendar:
            data["calendar"] = self.calendar.to_dict()
        if self.reopen != Reopening():
            data["reopen"] = self.reopen.to_dict()
        if self.priority != PriorityRule():
            data["priority"] = self.priority.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Template:
        """Reads a template's JSON; structural problems are left to validation (validate)."""
        try:
            return cls(
                key=data["key"],
                name=data["name"],
                version=int(data.get("version", 0)),
                fields=_each(data, "fields", Field.from_dict),
                nodes=_each(data, "nodes", Node.from_dict),
                transitions=_each(data, "transitions", Transition.from_dict),
                variant_of=data.get("variant_of"),
                regions=tuple(data.get("regions", ())),
                calendar=Calendar.from_dict(data["calendar"]) if data.get("calendar") else None,
                reopen=Reopening.from_dict(data.get("reopen") or {}),
                priority=PriorityRule.from_dict(data.get("priority") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise Invalid(f"not a template: {error!r} is missing or malformed") from None


def _each(data: dict[str, Any], part: str, read: Callable[[dict[str, Any]], T]) -> tuple[T, ...]:
    items = []
    for index, item in enumerate(data.get(part, ())):
        try:
            items.append(read(item))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise Invalid(
                f"{part}[{index}] of template {data.get('key')!r} is malformed: {error}", part=part, index=index
            ) from None
    return tuple(items)


def copy_template(template: Template, key: str, name: str, **changes: Any) -> Template:
    """Copy-and-modify: a new unpublished template (version 0) from a whole existing one;
    `changes` replace parts of the copy (fields, nodes, transitions, variant_of and regions …).
    A copy is no regional variant unless `changes` say so."""
    return replace(template, **({"variant_of": None, "regions": ()} | changes), key=key, name=name, version=0)
