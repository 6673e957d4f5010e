"""The assignment strategies a template can name, as `<strategy>_<role>` (e.g. `nearest_technician`)."""

from __future__ import annotations

from services.workflow.assignment import Strategy
from services.workflow.dispatch.least_loaded import LeastLoaded
from services.workflow.dispatch.longest_idle import longest_idle
from services.workflow.dispatch.nearest import nearest, nearest_site
from services.workflow.dispatch.on_duty import on_duty
from services.workflow.dispatch.round_robin import round_robin
from services.workflow.dispatch.skills import BySkill


def strategies(saturation: float = 0.8, skill_field: str = "skill") -> dict[str, Strategy]:
    return {
        "round_robin": round_robin,
        "least_loaded": LeastLoaded(saturation),
        "on_duty": on_duty,
        "longest_idle": longest_idle,
        "nearest": nearest,
        "nearest_site": nearest_site,
        "by_skill": BySkill(skill_field),
    }
