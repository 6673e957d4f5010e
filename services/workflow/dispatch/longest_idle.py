"""Longest idle (空闲最久): the member with room whose last assignment lies furthest back (never
assigned comes first)."""

from __future__ import annotations

from services.workflow.assignment import Assignment, Need
from services.workflow.dispatch.pool import candidates, idle_key, load_of
from services.workflow.texts import say


def longest_idle(need: Need) -> Assignment | None:
    members = candidates(need)
    if not members:
        return None
    chosen = min(members, key=lambda m: idle_key(need, m))
    last = need.load.last.get(chosen.user)
    since = say("dispatch.last_assigned", at=last.isoformat(timespec="seconds")) if last else say("dispatch.never")
    return Assignment(
        need.node.key,
        "user",
        chosen.user,
        say("dispatch.longest_idle", role=need.role, user=chosen.user, since=since, load=load_of(need, chosen)),
    )
