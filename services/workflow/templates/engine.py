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
from typing import Any
from collections.abc import Mapping

from shared.errors import Conflict, Invalid, NotAllowed

from services.workflow.templates.flow import Flow
from services.workflow.templates.memo import per_template
from services.workflow.templates.model import ACTIONS, LEAVING_ACTIONS, Node, Template
from services.workflow.templates.progress import Progress, Step, Token
from services.workflow.templates.validation import validated_once
from shared.formfields.forms import validate_values
from shared.formfields.values import is_empty

WRITING_ACTIONS = ("edit", "close") + LEAVING_ACTIONS  # the actions that may bring field values
PAST_TENSE = {
    "approve": "approved",
    "reject": "rejected",
    "transfer": "transferred",
    "edit": "edited",
    "close": "closed",
    "cancel": "cancelled",
    "reopen": "reopened",
}


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


def act(
    template: Template,
    progress: Progress,
    action: str,
    at: str,
    values: Mapping[str, Any] | None = None,
    to: str | None = None,
) -> Step:
    """Do `action` at node `at`. `values` (edit, advance, approve, reject) are written first;
    `to` is the node a return goes back to."""
    if (progress.template, progress.version) != (template.key, template.version):
        raise Conflict(
            f"this ticket runs on {progress.template} v{progress.version}, not {template.key} v{template.version}"
        )
    if action not in ACTIONS:
        raise Invalid(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    token = progress.at(at)
    if token is None:
        raise Conflict(
            f"the ticket is not at node {at!r} (it is at {', '.join(t.node for t in progress.tokens) or 'no node'})"
        )
    node = template.node(at)
    if action not in allowed_actions(template, progress, at):
        state = "" if progress.status == "open" else f" while the ticket is {progress.status}"
        raise (NotAllowed if action not in node.actions else Conflict)(
            f"{action!r} is not allowed at node {node.name!r}{state}", rule="node_actions", node=at, action=action
        )
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
    elif action == "close":
        _close(flow, node, token)
    elif action == "cancel":
        flow.status = "cancelled"
        flow.note("cancelled", at, token.id)
    elif action == "reopen":
        return reopen(template, progress, at)
    elif action == "transfer":
        flow.note("transferred", at, token.id)
    return flow.done()


def reopen(template: Template, progress: Progress, at: str) -> Step:
    """A closed or cancelled ticket open again, at node `at`: to the template's reopen node if it names
    one, else an end node goes back to the last task the ticket passed, and a task stays where it is.
    Who may reopen is the caller's business (the node's actions, or the template's reopen roles)."""
    token = progress.at(at)
    if token is None:
        raise Conflict(
            f"the ticket is not at node {at!r} (it is at {', '.join(t.node for t in progress.tokens) or 'no node'})"
        )
    if progress.status == "open":
        raise Conflict("the ticket is open: there is nothing to reopen", rule="node_actions", node=at, action="reopen")
    flow = Flow(template, progress)
    flow.status = "open"
    flow.note("reopened", at, token.id)
    target = template.reopen.to
    if target is None and template.node(at).kind == "end":
        if not token.path:
            raise Conflict("the ticket passed no task to reopen at")
        target = token.path[-1]
    if target is not None:
        flow.leave(token, "left")
        path = token.path
        if target in path:  # back to its latest visit of that task, as a return goes
            path = path[: len(path) - 1 - path[::-1].index(target)]
        flow.enter(replace(token, path=path), target)
    return flow.done()


def _close(flow: Flow, node: Node, token: Token) -> None:
    """Close where the template allows it (the node's actions), with the node's required fields filled
    in, to the end node its advance leads to: never past a task still ahead (a follow-up, a review)."""
    _check_required(flow, node)
    candidates = flow.template.outgoing(node.key, "advance")
    chosen = next((t for t in candidates if t.expression and t.expression.evaluate(flow.values)), None)
    chosen = chosen or next((t for t in candidates if t.condition is None), None)
    if chosen is not None and flow.template.node(chosen.target).kind != "end":
        raise NotAllowed(
            f"closing at {node.name!r} would skip {flow.template.node(chosen.target).name!r}: advance instead",
            rule="node_actions",
            node=node.key,
            action="close",
            next=chosen.target,
        )
    if chosen is not None:
        flow.leave(token, "left")
        flow.enter(token, chosen.target)  # the end node: closed there, when no other branch is open
    if flow.status != "closed":
        flow.status = "closed"
        flow.note("closed", node.key, token.id)


def _check_required(flow: Flow, node: Node) -> None:
    missing = [f for f in flow.template.fields if f.key in node.fields.required and is_empty(flow.values.get(f.key))]
    if missing:
        raise Invalid(
            f"fill in {', '.join(f.label for f in missing)} before leaving {node.name!r}",
            missing=[f.key for f in missing],
        )


def _write(flow: Flow, node: Node, token: Token, values: Mapping[str, Any]) -> None:
    known = {f.key for f in flow.template.fields}  # unknown keys are reported by validate_values
    locked = {key: node.fields.access(key) for key in values if key in known and node.fields.access(key) != "editable"}
    if locked:
        listed = ", ".join(f"{key} ({access.replace('_', '-')})" for key, access in locked.items())
        raise NotAllowed(
            f"node {node.name!r} does not let these fields change: {listed}",
            rule="field_rules",
            node=node.key,
            fields=sorted(locked),
        )
    flow.values.update(validate_values(flow.template.fields, values, partial=True))
    flow.note("edited", node.key, token.id, fields=sorted(values))


def _leave(flow: Flow, node: Node, token: Token, action: str) -> None:
    _check_required(flow, node)
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
        raise Invalid(
            f"a return goes back to a node this ticket passed: {', '.join(earlier) or 'none yet'}",
            to=to,
            earlier=list(earlier),
        )
    flow.note("returned", node.key, token.id, to=to)
    flow.leave(token, "left")
    back = len(earlier) - 1 - earlier[::-1].index(to)  # its latest visit, if it passed it more than once
    flow.enter(replace(token, path=earlier[:back]), to)
