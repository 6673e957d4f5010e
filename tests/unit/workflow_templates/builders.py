"""Small templates for tests, written as compactly as the JSON a designer would send."""

from services.workflow.templates.model import Template

ALL_ACTIONS = ["view", "edit", "advance", "return", "transfer", "close", "cancel", "reopen"]


def task(key, actions=ALL_ACTIONS, **more):
    return {
        "key": key,
        "name": key.upper(),
        "handler": {"kind": "role", "value": "staff"},
        "actions": list(actions),
    } | more


def auto(key, kind, **more):
    return {"key": key, "name": key.upper(), "kind": kind} | more


def template(nodes, transitions, fields=(), key="t", **more):
    return Template.from_dict(
        {
            "key": key,
            "name": key.upper(),
            "fields": list(fields),
            "nodes": list(nodes),
            "transitions": [
                dict(zip(("from", "to", "if", "on"), t)) if isinstance(t, tuple) else t for t in transitions
            ],
        }
        | more
    )


def straight(*keys, **more):
    """Tasks in a row, then an end node 'end'."""
    return template(
        [task(k) for k in keys] + [auto("end", "end", actions=["view", "reopen"])],
        list(zip(keys, keys[1:] + ("end",))),
        **more,
    )
