"""The execution semantics of templates: pure functions from a progress to the next one.

    start(template, values)                      -> Step(progress, happened)
    act(template, progress, action, at, ...)     -> Step(progress, happened)

`at` names the node whose handler acts (with parallel branches several nodes are active).
Errors: Invalid (bad values, a missing required field, return to a node not passed),
NotAllowed (the node does not allow the action or the field; `rule` in its details says which:
node_actions or field_rules), Conflict (the ticket is not
there or not in that state any more, e.g. a second, stale click).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from shared.errors import Conflict, Invalid, NotAllowed

from services.workflow.templates.flow import Flow
from services.workflow.templates.memo import per_template
from services.workflow.templates.model import ACTIONS, LEAVING_ACTIONS, Node, Template
from services.workflow.templates.progress import Progress, Step, Token
from services.workflow.templates.validation import validated_once
from shared.formfields.forms import validate_values
from shared.formfields.values import is_empty

WRITING_ACTIONS = ("edit",) + LEAVING_ACTIONS  # the actions that may bring field values
PAST_TENSE = {"approve": "approved", "reject": "rejected", "transfer": "transferred", "edit": "edited",
              "close": "closed", "cancel": "cancelled", "reopen": "reopened"}


def start(template: Template, values: Mapping[str, Any] | None = None, complete: bool = True) -> Step:
    """A new ticket on a (validated) template: defaults and required fields applied, first node entered.
    `complete=False` lets required fields stay empty, for a ticket from a channel that could not ask
    for them (a chat message): its handlers fill them in."""
    if not values:  # most tickets from chat: the same start every time (a Step is immutable)
        return _blank_start(template, complete)
    return _start(template, values, complete)


def _start(template: Template, values: Mapping[str, Any], complete: bool) -> Step:
    validated_once(template)
    fields = template.fields if complete else tuple(replace(f, required=False) for f in template.fields)
    flow = Flow(template, Progress(template.key, template.version, values=validate_values(fields, values)))
    flow.enter(Token(flow.new_id("t"), template.first.key), template.first.key)
    return flow.done()


@per_template
def _blank_start(template: Template, complete: bool) -> Step:
    return _start(template, {}, complete)


def allowed_actions(template: Template, progress: Progress, at: str) -> tuple[str, ...]:
    """What may be done at node `at` now (who may do it is the caller's business)."""
    if progress.at(at) is None:
        return ()
    actions = template.node(at).actions
    if progress.status != "open":
        return tuple(a for a in actions if a in ("view", "reopen"))
    return tuple(a for a in actions if a != "reopen")


def act(template: Template, progress: Progress, action: str, at: str,
        values: Mapping[str, Any] | None = None, to: str | None = None) -> Step:
    """Do `action` at node `at`. `values` (edit, advance, approve, reject) are written first;
    `to` is the node a return goes back to."""
    if (progress.template, progress.version) != (template.key, template.version):
        raise Conflict(f"this ticket runs on {progress.template} v{progress.version}, not {template.key} v{template.version}")
    if action not in ACTIONS:
        raise Invalid(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    token = progress.at(at)
    if token is None:
        raise Conflict(f"the ticket is not at node {at!r} (it is at {', '.join(t.node for t in progress.tokens) or 'no node'})")
    node = template.node(at)
    if action not in allowed_actions(template, progress, at):
        state = "" if progress.status == "open" else f" while the ticket is {progress.status}"
        raise (NotAllowed if action not in node.actions else Conflict)(
            f"{action!r} is not allowed at node {node.name!r}{state}", rule="node_actions", node=at, action=action)
    if values and action not in WRITING_ACTIONS:
        raise Invalid(f"{action!r} takes no field values; edit them first")
    if to is not None and action != "return":
        raise Invalid("only a return goes to a node of one's choice")
    flow = Flow(template, progress)
    if values:
        _write(flow, node, token, values)
    if action in LEAVING_ACTIONS:
        _leave(flow, node, token, action)
    elif action == "return":
        _return(flow, node, token, to)
    elif action in ("close", "cancel", "reopen"):
        flow.status = {"close": "closed", "cancel": "cancelled", "reopen": "open"}[action]
        flow.note(PAST_TENSE[action], at, token.id)
        if action == "reopen" and node.kind == "end":  # back to the last task this token passed
            if not token.path:
                raise Conflict("the ticket passed no task to reopen at")
            flow.leave(token, "left")
            flow.enter(replace(token, path=token.path[:-1]), token.path[-1])
    elif action == "transfer":
        flow.note("transferred", at, token.id)
    return flow.done()


def _write(flow: Flow, node: Node, token: Token, values: Mapping[str, Any]) -> None:
    known = {f.key for f in flow.template.fields}  # unknown keys are reported by validate_values
    locked = {key: node.fields.access(key) for key in values if key in known and node.fields.access(key) != "editable"}
    if locked:
        listed = ", ".join(f"{key} ({access.replace('_', '-')})" for key, access in locked.items())
        raise NotAllowed(f"node {node.name!r} does not let these fields change: {listed}", rule="field_rules",
                         node=node.key, fields=sorted(locked))
    flow.values.update(validate_values(flow.template.fields, values, partial=True))
    flow.note("edited", node.key, token.id, fields=sorted(values))


def _leave(flow: Flow, node: Node, token: Token, action: str) -> None:
    missing = [f for f in flow.template.fields if f.key in node.fields.required and is_empty(flow.values.get(f.key))]
    if missing:
        raise Invalid(f"fill in {', '.join(f.label for f in missing)} before leaving {node.name!r}",
                      missing=[f.key for f in missing])
    candidates = flow.template.outgoing(node.key, action)
    chosen = next((t for t in candidates if t.expression and t.expression.evaluate(flow.values)), None)
    chosen = chosen or next((t for t in candidates if t.condition is None), None)
    if chosen is None:
        raise Conflict(f"no transition leaves {node.name!r} on {action!r}")
    if action in PAST_TENSE:
        flow.note(PAST_TENSE[action], node.key, token.id)
    flow.leave(token, "left")
    flow.enter(token, chosen.target)


def _return(flow: Flow, node: Node, token: Token, to: str | None) -> None:
    earlier = token.path[:-1]
    if to not in earlier:
        raise Invalid(f"a return goes back to a node this ticket passed: {', '.join(earlier) or 'none yet'}",
                      to=to, earlier=list(earlier))
    flow.note("returned", node.key, token.id, to=to)
    flow.leave(token, "left")
    back = len(earlier) - 1 - earlier[::-1].index(to)  # its latest visit, if it passed it more than once
    flow.enter(replace(token, path=earlier[:back]), to)
