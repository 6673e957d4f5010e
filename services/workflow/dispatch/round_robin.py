"""Round robin (轮流派单): the role's members take turns, in user-id order.

The turn is derived from the load (the order of the Assigned events in the log), never kept in memory: whoever in
the pool was assigned most recently had the last turn, and the next one in order with room gets this
one. So the rotation carries on where it stood after a restart.
"""

from __future__ import annotations

from services.workflow.assignment import Assignment, Need
from services.workflow.dispatch.pool import candidates, load_of
from services.workflow.texts import say


def round_robin(need: Need) -> Assignment | None:
    ring = candidates(need, with_room=False)  # the rotation order does not change when someone is full
    able = {m.user for m in candidates(need)}
    if not able:
        return None
    served = [m for m in ring if m.user in need.load.turn]
    last = max(served, key=lambda m: need.load.turn[m.user]) if served else None
    start = ring.index(last) + 1 if last else 0
    chosen = next(m for m in ring[start:] + ring[:start] if m.user in able)
    after = say("dispatch.after", user=last.user) if last else say("dispatch.first")
    return Assignment(
        need.node.key,
        "user",
        chosen.user,
        say("dispatch.round_robin", role=need.role, user=chosen.user, after=after, load=load_of(need, chosen)),
    )
