"""The process sandbox (流程沙箱): one ticket's own changes to its template. No I/O here.

A staff member may, for one ticket, insert a task node after another, skip a node, or give a
node another handler rule. The ticket records each change as an event; its *effective* template
is the published version with those changes applied in order, and it runs on that one from then
on. The published template never changes: the effective one keeps its key and version (the
ticket's progress stays on them) and exists only in this ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Iterable, Mapping

from shared.errors import Invalid, NotFound

from services.workflow.templates.model import HandlerRule, Node, Template, Transition
from services.workflow.templates.validation import problems

OPERATIONS = ("insert", "skip", "handler")
INSERTED_ACTIONS = ("view", "edit", "advance", "transfer")  # an inserted node's actions unless it names them


@dataclass(frozen=True)
class Change:
    """insert: `node` after `after`; skip: `node`; handler: `node` is handled by `handler`."""

    op: str
    node: str
    after: str | None = None
    inserted: Node | None = None
    handler: HandlerRule | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"op": self.op, "node": self.node}
        if self.after is not None:
            data["after"] = self.after
        if self.inserted is not None:
            data["inserted"] = self.inserted.to_dict()
        if self.handler is not None:
            data["handler"] = self.handler.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        inserted, handler = data.get("inserted"), data.get("handler")
        return cls(
            data["op"],
            data["node"],
            data.get("after"),
            Node.from_dict(inserted) if inserted else None,
            HandlerRule(**handler) if handler else None,
        )


def insertion(after: str, node: Mapping[str, Any]) -> Change:
    """A task node to insert after `after`, from its JSON (key, name, handler, actions, fields)."""
    try:
        inserted = Node.from_dict({"actions": list(INSERTED_ACTIONS), **node, "kind": "task"})
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise Invalid(f"not a node: {error!r} is missing or malformed") from None
    return Change("insert", inserted.key, after=after, inserted=inserted)


def requested(
    op: str,
    node: str | None = None,
    after: str | None = None,
    inserted: Mapping[str, Any] | None = None,
    handler: Mapping[str, Any] | None = None,
) -> Change:
    """A change as a staff member asks for it (the sandbox endpoint's body)."""
    needs = {"insert": (after, inserted), "skip": (node,), "handler": (node, handler)}
    if op not in needs or any(part is None for part in needs[op]):
        raise Invalid("say op insert (after, inserted), skip (node) or handler (node, handler)")
    if op == "insert":
        return insertion(after, inserted)
    return Change(op, node, handler=HandlerRule(**handler) if op == "handler" else None)


def effective(template: Template, changes: Iterable[Change]) -> Template:
    """`template` with `changes` applied in order; Invalid (details: problems) if the result could
    not be published as a template."""
    for change in changes:
        template = apply(template, change)
    found = problems(template)
    if found:
        raise Invalid(f"this change would break the ticket's process: {'; '.join(found)}", problems=found)
    return template


def apply(template: Template, change: Change) -> Template:
    """One change, unchecked (see `effective`)."""
    try:
        target = template.node(change.after if change.op == "insert" else change.node)
    except NotFound as error:
        raise Invalid(error.message, problems=[error.message]) from None
    if change.op == "insert":
        return _insert(template, target, change.inserted)
    if change.op == "skip":
        return _skip(template, target)
    if change.op == "handler":
        if target.kind != "task":
            raise _refused(f"only a task has a handler; node {target.key!r} is a {target.kind}")
        nodes = tuple(replace(n, handler=change.handler) if n is target else n for n in template.nodes)
        return replace(template, nodes=nodes)
    raise Invalid(f"unknown sandbox operation {change.op!r} (one of {', '.join(OPERATIONS)})")


def _insert(template: Template, after: Node, inserted: Node) -> Template:
    """`after`'s advance transitions now leave from the inserted node, which `after` advances to:
    branch conditions are then evaluated there, on the same values."""
    if not template.outgoing(after.key, "advance"):
        raise _refused(f"node {after.key!r} does not advance anywhere: nothing to insert after it")
    if "advance" not in inserted.actions:
        raise _refused(f"the inserted node {inserted.key!r} must allow 'advance', or the ticket would stop there")
    moved = tuple(
        replace(t, source=inserted.key) if (t.source, t.on) == (after.key, "advance") else t
        for t in template.transitions
    )
    at = template.nodes.index(after) + 1
    return replace(
        template,
        nodes=template.nodes[:at] + (inserted,) + template.nodes[at:],
        transitions=moved + (Transition(after.key, inserted.key),),
    )


def _skip(template: Template, skipped: Node) -> Template:
    """The node goes; transitions into it go to its successor (its default advance branch). Nodes only
    its other branches led to go too (unreachable, they would make no valid template)."""
    if skipped.kind in ("split", "join", "end"):
        raise _refused(f"a {skipped.kind} cannot be skipped (node {skipped.key!r})")
    successor = successor_of(template, skipped.key)
    if successor is None or successor == skipped.key:
        raise _refused(f"node {skipped.key!r} has no default advance branch: nowhere to skip to")
    transitions = tuple(
        replace(t, target=successor) if t.target == skipped.key else t
        for t in template.transitions
        if t.source != skipped.key
    )
    first = successor if skipped is template.first else template.first.key
    reachable, pending = set(), [first]
    while pending:
        key = pending.pop()
        if key not in reachable:
            reachable.add(key)
            pending += [t.target for t in transitions if t.source == key]
    nodes = sorted((n for n in template.nodes if n.key in reachable), key=lambda n: n.key != first)  # first stays first
    return replace(template, nodes=tuple(nodes), transitions=tuple(t for t in transitions if t.source in reachable))


def successor_of(template: Template, key: str) -> str | None:
    """Where a skipped node sends tickets: its default advance branch."""
    return next((t.target for t in template.outgoing(key, "advance") if t.condition is None), None)


def _refused(message: str) -> Invalid:
    return Invalid(message, problems=[message])
