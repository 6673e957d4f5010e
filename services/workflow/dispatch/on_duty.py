"""On duty (值班派单): only members whose shift covers `now` in the tenant's time zone (night shifts
run past midnight), the least loaded of them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.workflow.assignment import Assignment, Need
from services.workflow.dispatch.pool import candidates, least_loaded, load_of
from services.workflow.texts import say

WEEKDAYS = "一二三四五六日"


def on_duty(need: Need) -> Assignment | None:
    zone = need.directory.time_zone
    local = need.now.astimezone(ZoneInfo(zone))
    chosen = least_loaded(need, [m for m in candidates(need) if m.profile.on_duty(local)])
    if chosen is None:
        return None
    shifts = "、".join(f"{s.start:%H:%M}–{s.end:%H:%M}" for s in chosen.profile.shifts) or say("dispatch.always")
    return Assignment(
        need.node.key,
        "user",
        chosen.user,
        say(
            "dispatch.on_duty",
            weekday=WEEKDAYS[local.weekday()],
            time=f"{local:%H:%M}",
            zone=zone,
            user=chosen.user,
            shifts=shifts,
            load=load_of(need, chosen),
        ),
    )
