"""A ticket's priority (优先级): normal, urgent or VIP, from a field, the customer's VIP flag or a
keyword in what the customer wrote; the highest that applies wins. No I/O here.

    "priority": {"field": "priority", "keywords": ["紧急", "加急"], "vip_flag": "vip"}

Every part is optional (those are the defaults). Lists and queues order by it (RANK), and a node's
SLA may tighten its targets for it (sla/rules.py, `priorities`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from services.workflow.texts import say

LEVELS = ("normal", "urgent", "vip")
RANK = {"vip": 0, "urgent": 1, "normal": 2}  # lists sort on it: the smallest first
NAMES = {"普通": "normal", "紧急": "urgent", "加急": "urgent", "vip": "vip", "VIP": "vip"}  # a field's option labels


@dataclass(frozen=True)
class PriorityRule:
    field: str = "priority"
    keywords: tuple[str, ...] = ("紧急", "加急")
    vip_flag: str = "vip"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "keywords": list(self.keywords), "vip_flag": self.vip_flag}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorityRule:
        unknown = set(data) - {"field", "keywords", "vip_flag"}
        if unknown:
            raise TypeError(f"unknown keys {', '.join(sorted(unknown))} in the priority rule")
        default = cls()
        return cls(
            str(data.get("field", default.field)),
            tuple(str(k) for k in data.get("keywords", default.keywords)),
            str(data.get("vip_flag", default.vip_flag)),
        )

    def decide(self, customer: Mapping[str, Any], values: Mapping[str, Any], description: str) -> tuple[str, str]:
        """The priority and why, in words a person reads."""
        found = []  # (level, why)
        raw = values.get(self.field)
        level = raw if raw in LEVELS else NAMES.get(str(raw)) if raw is not None else None
        if level:
            found.append((level, say("priority.from_field", field=self.field, value=say(f"priority.{level}"))))
        if self.vip_flag in (customer.get("flags") or ()) or customer.get(self.vip_flag) is True:
            found.append(("vip", say("priority.from_customer")))
        keyword = next((k for k in self.keywords if k and k in (description or "")), None)
        if keyword:
            found.append(("urgent", say("priority.from_keyword", keyword=keyword)))
        if not found:
            return "normal", say("priority.default")
        best = min((level for level, _ in found), key=RANK.__getitem__)
        return best, "；".join(why for level, why in found if level == best)
