"""Publish-time validation: every problem of a template at once, in words its designer understands."""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.errors import Invalid

from services.workflow.templates.conditions import (
    FieldRef,
    IsEmpty,
    Literal,
    Logic,
    Not,
    as_moment,
    kind_of,
    kind_problem,
)
from services.workflow.templates.expressions import ParseError, parse
from shared.formfields.fields import FIELD_TYPES, Field, field_problems
from services.workflow.templates.model import (
    ACTIONS,
    HANDLER_KINDS,
    JOIN_MODES,
    LEAVING_ACTIONS,
    NODE_KINDS,
    Node,
    Template,
)
from services.workflow.templates.memo import per_template
from services.workflow.templates.topology import graph_problems
from shared.formfields.forms import clean_value

KINDS = {
    "number": "number",
    "money": "number",
    "date": "date",
    "datetime": "datetime",
    "location": "location",
    "multi_select": "list",
    "image": "list",
    "attachment": "list",
}  # every other type holds text


def validate(template: Template) -> Template:
    """The template itself if it may be published; else Invalid listing every problem (details: problems)."""
    found = problems(template)
    if found:
        raise Invalid(f"template {template.key!r} has {len(found)} problem(s): " + "; ".join(found), problems=found)
    return template


@per_template
def validated_once(template: Template) -> Template:
    """`validate`, remembered per template object: checking it for every ticket opened on
    it would cost more than opening the ticket."""
    return validate(template)


def problems(template: Template) -> list[str]:
    found = [
        f"{what} {key!r} is defined more than once"
        for what, keys in (("field", [f.key for f in template.fields]), ("node", [n.key for n in template.nodes]))
        for key, count in Counter(keys).items()
        if count > 1
    ]
    if not template.key or not template.name:
        found.append("a template needs a key and a name")
    if bool(template.variant_of) != bool(template.regions):
        found.append("a regional variant names both the template it varies (variant_of) and its regions")
    for f in template.fields:
        found += field_problems(f) + _default_problems(f)
    if not template.nodes:
        return found + ["a template needs nodes"]
    if template.first.kind not in ("task", "split"):
        found.append(f"the first node {template.first.key!r} must be a task or a split")
    if not any(node.kind == "end" for node in template.nodes):
        found.append("a template needs an end node")
    fields = {f.key: f for f in template.fields}
    for node in template.nodes:
        found += _node_problems(node, fields)
    found += _sla_problems(template, fields)
    found += _transition_problems(template, fields)
    found += _reopen_problems(template)
    return found + graph_problems(template)


def _default_problems(f: Field) -> list[str]:
    if f.default is None or f.type not in FIELD_TYPES:
        return []
    try:
        clean_value(f, f.default)
        return []
    except Invalid as error:
        return [f"field {f.key!r}: the default {error.details['errors'][f.key]}"]


def _node_problems(node: Node, fields: dict[str, Field]) -> list[str]:
    name = f"node {node.key!r}"
    found = [f"{name}: unknown kind {node.kind!r}"] if node.kind not in NODE_KINDS else []
    found += [f"{name}: unknown action {action!r}" for action in node.actions if action not in ACTIONS]
    if node.kind == "task" and (node.handler is None or node.handler.kind not in HANDLER_KINDS):
        found.append(f"{name}: a task needs a handler rule ({', '.join(HANDLER_KINDS)})")
    elif node.kind == "task" and node.handler.value is None and node.handler.kind != "previous_supervisor":
        found.append(f"{name}: the handler rule {node.handler.kind!r} must name whom")
    if node.kind in ("split", "join") and (node.handler or node.actions or node.fields.mentioned()):
        found.append(f"{name}: a {node.kind} passes by itself and has no handler, actions or field rules")
    if node.kind == "join" and node.join not in JOIN_MODES:
        found.append(f"{name}: a join waits for 'all' or 'any' branches, not {node.join!r}")
    rules = node.fields
    found += [f"{name}: field rules name unknown field {key!r}" for key in sorted(rules.mentioned() - set(fields))]
    found += [
        f"{name}: field {key!r} is required to leave but hidden here" for key in rules.required if key in rules.hidden
    ]
    found += [f"{name}: field {key!r} is both hidden and editable" for key in rules.editable if key in rules.hidden]
    return found


def _reopen_problems(template: Template) -> list[str]:
    rule = template.reopen
    found = (
        []
        if rule.roles and all(isinstance(r, str) and r for r in rule.roles)
        else ["reopen: name the roles that may reopen a ticket"]
    )
    if rule.to is not None and rule.to not in {n.key for n in template.nodes if n.kind == "task"}:
        found.append(f"reopen: {rule.to!r} is not a task node of the template")
    return found


def _sla_problems(template: Template, fields: dict[str, Field]) -> list[str]:
    calendar_problems = template.calendar.problems() if template.calendar else []
    found = [f"calendar: {problem}" for problem in calendar_problems]
    for node in template.nodes:
        if node.sla is None:
            continue
        if node.kind != "task":
            found.append(f"node {node.key!r}: only a task has an SLA; a {node.kind} passes by itself")
        elif not calendar_problems:
            found += [f"node {node.key!r} sla: {p}" for p in node.sla.problems(set(fields), template.business_calendar)]
    return found


def _transition_problems(template: Template, fields: dict[str, Field]) -> list[str]:
    nodes = {node.key: node for node in template.nodes}
    found = []
    for t in template.transitions:
        name = f"transition {t.source!r} → {t.target!r}"
        found += [f"{name}: unknown node {key!r}" for key in (t.source, t.target) if key not in nodes]
        if t.on not in LEAVING_ACTIONS:
            found.append(f"{name}: is taken on {', '.join(LEAVING_ACTIONS)}, not {t.on!r}")
        source = nodes.get(t.source)
        if source and source.kind != "task" and (t.on != "advance" or t.condition):
            found.append(f"{name}: a {source.kind} takes its transitions by itself, without conditions or actions")
        if source and source.kind == "end":
            found.append(f"{name}: nothing leaves an end node")
        if t.condition is not None:
            found += [f"{name}: {problem}" for problem in _condition_problems(t.condition, fields)]
    groups = {(t.source, t.on) for t in template.transitions if t.source in nodes and nodes[t.source].kind == "task"}
    for source, on in sorted(groups):
        defaults = [t for t in template.outgoing(source, on) if t.condition is None]
        if len(defaults) != 1:
            found.append(
                f"node {source!r} needs exactly one default branch (a transition without a condition) "
                f"for {on!r}, it has {len(defaults)}"
            )
    for node in template.nodes:
        found += [
            f"node {node.key!r} allows {action!r} but no transition is taken on it"
            for action in LEAVING_ACTIONS
            if node.kind == "task" and action in node.actions and not template.outgoing(node.key, action)
        ]
        count = len(template.outgoing(node.key))
        if node.kind == "split" and count < 2:
            found.append(f"split {node.key!r} needs at least two branches, it has {count}")
        if node.kind == "join" and (count != 1 or len(template.incoming(node.key)) < 2):
            found.append(f"join {node.key!r} needs two or more incoming transitions and exactly one outgoing")
    return found


def _condition_problems(source: str, fields: dict[str, Field]) -> list[str]:
    try:
        expression = parse(source)
    except ParseError as error:
        return [f"the condition does not parse: {error.message}"]
    unknown = sorted(expression.fields - set(fields))
    if unknown:
        return [f"the condition {source!r} names unknown field(s) {', '.join(unknown)}"]
    return [f"in {source!r}: {problem}" for problem in _tree_problems(expression.tree, fields)]


def _tree_problems(tree: Any, fields: dict[str, Field]) -> list[str]:
    """Kind checks of each comparison, against the field types (see conditions.kind_problem)."""
    if isinstance(tree, (Not, IsEmpty)):
        return _tree_problems(tree.operand, fields) if isinstance(tree, Not) else []
    if isinstance(tree, Logic):
        return [problem for part in tree.parts for problem in _tree_problems(part, fields)]
    kinds = [
        KINDS.get(fields[side.key].type, "text") if isinstance(side, FieldRef) else kind_of(side.value)
        for side in (tree.left, tree.right)
    ]
    problem = kind_problem(tree.op, *kinds)
    if problem:
        return [problem]
    found = []
    for side, other, kind in ((tree.left, tree.right, kinds[0]), (tree.right, tree.left, kinds[1])):
        if isinstance(side, FieldRef) and isinstance(other, Literal):
            found += _literal_problems(fields[side.key], kind, other.value)
    return found


def _literal_problems(f: Field, kind: str, value: Any) -> list[str]:
    """A literal a field can never equal makes a branch that is never taken: say so."""
    items = value if isinstance(value, tuple) else (value,)
    found = []
    for item in items:
        if kind in ("date", "datetime"):
            try:
                as_moment(item, kind)
            except ValueError:
                found.append(f"{item!r} is not a {kind} (ISO 8601{', with a time zone' if kind == 'datetime' else ''})")
        elif f.options and item not in f.options:
            found.append(f"{item!r} is not an option of field {f.key!r} ({', '.join(f.options)})")
        elif kind_of(item) != kind and kind != "list":
            found.append(f"{item!r} is not a {kind} like field {f.key!r}")
    return found
