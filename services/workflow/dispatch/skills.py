"""By skill and region (按技能与区域): members who have every skill the ticket asks for (the value of
its skill field: one or several) and serve its region; the least loaded of them."""

from __future__ import annotations

from dataclasses import dataclass

from services.workflow.assignment import Assignment, Need
from services.workflow.dispatch.pool import candidates, least_loaded, load_of
from services.workflow.texts import say


@dataclass(frozen=True)
class BySkill:
    field: str = "skill"  # the template field that says which skill(s) the job needs

    def __call__(self, need: Need) -> Assignment | None:
        raw = need.values.get(self.field)
        wanted = {raw} if isinstance(raw, str) and raw else set(raw or ()) if isinstance(raw, (list, tuple)) else set()
        chosen = least_loaded(need, [m for m in candidates(need) if wanted <= set(m.profile.skills)])
        if chosen is None:
            return None
        skill = say("dispatch.skill", skills="、".join(sorted(wanted))) if wanted else say("dispatch.no_skill")
        region = say("dispatch.region", region=need.region) if need.region else ""
        return Assignment(
            need.node.key,
            "user",
            chosen.user,
            say("dispatch.by_skill", skill=skill, region=region, user=chosen.user, load=load_of(need, chosen)),
        )
