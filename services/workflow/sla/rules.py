"""What a template says about a node's SLA (时效), as plain frozen values with JSON `to_dict` /
`from_dict` and publish-time `problems`. No clock, no I/O.

    "sla": {
      "response": "2h", "resolution": "1d",           # working time from entering the node
      "regions": [                                    # the most specific matching region wins
        {"regions": ["北京", "上海", "广东/广州", "广东/深圳"], "response": "2h"},
        {"regions": ["四川/凉山"], "response": "next_business_day", "resolution": "3d"}],
      "warn_before": "30m",                           # SlaWarned this long before each deadline
      "escalation": [                                 # after a breach, in order
        {"after": "0m", "do": "remind"},
        {"after": "1h", "do": "notify_supervisor"},
        {"after": "4h", "do": "reassign", "to": {"kind": "user", "value": "backup-1"}}],
      "vip": {"flag": "vip", "remind_every": "30m", "times": 4},   # repeated reminders after a breach
      "pausable": true,                               # pause / resume while waiting for the customer
      "priorities": {"urgent": {"response": "1h"},    # tighter targets for the ticket's priority
                     "vip": {"response": "30m", "resolution": "4h"}}
    }

A target starts when the ticket enters the node: `response` is met by the handler's first action
there (edit, claim, pause, parts or labour, or leaving), `resolution` by leaving. Durations count
the template's business calendar (`Template.calendar`, Asia/Shanghai office hours by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from collections.abc import Mapping

from services.workflow.sla.calendar import Calendar, CalendarError, is_target, parse_duration

CLOCKS = ("response", "resolution")
ESCALATIONS = ("remind", "notify_supervisor", "reassign")
REASSIGN_KINDS = ("user", "role", "department")
MAX_VIP_REMINDERS = 50
PRIORITIES = ("urgent", "vip")  # the priorities a node's SLA may tighten its targets for (priority.py)


def region_matches(rule_region: str, region: str | None) -> bool:
    """A rule for "广东" covers "广东/深圳" and "广东/深圳/南山"; one for "广东/深圳" does not cover "广东"."""
    if not region:
        return False
    rule, ticket = rule_region.strip("/").split("/"), region.strip("/").split("/")
    return ticket[: len(rule)] == rule


@dataclass(frozen=True)
class RegionRule:
    regions: tuple[str, ...]
    response: str | None = None
    resolution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"regions": list(self.regions)}
        return data | {k: v for k, v in (("response", self.response), ("resolution", self.resolution)) if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegionRule:
        _known(data, {"regions", "response", "resolution"}, "a regional rule")
        return cls(tuple(data["regions"]), data.get("response"), data.get("resolution"))

    def specificity(self, region: str | None) -> int:
        """How many path segments of the best matching region (0: it does not apply)."""
        return max((len(r.strip("/").split("/")) for r in self.regions if region_matches(r, region)), default=0)


@dataclass(frozen=True)
class PriorityTargets:
    """The targets of a ticket with `priority` (urgent, vip: priority.py), over the regional ones."""

    priority: str
    response: str | None = None
    resolution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("response", self.response), ("resolution", self.resolution)) if v}

    @classmethod
    def from_dict(cls, priority: str, data: Mapping[str, Any]) -> PriorityTargets:
        _known(data, {"response", "resolution"}, f"the targets of priority {priority!r}")
        return cls(priority, data.get("response"), data.get("resolution"))


@dataclass(frozen=True)
class Escalation:
    after: str  # working time after the breach
    do: str  # remind | notify_supervisor | reassign
    to: Mapping[str, str] | None = None  # reassign: the backup handler {kind, value}

    def to_dict(self) -> dict[str, Any]:
        return {"after": self.after, "do": self.do} | ({"to": dict(self.to)} if self.to else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Escalation:
        _known(data, {"after", "do", "to"}, "an escalation step")
        return cls(data.get("after", "0m"), data["do"], dict(data["to"]) if data.get("to") else None)


@dataclass(frozen=True)
class Vip:
    """Customers with `flag` (customer["flags"] lists it, or customer[flag] is true), or tickets whose
    field values satisfy the condition `when`, are reminded `times` more times, every `remind_every`
    after a breach."""

    flag: str = "vip"
    remind_every: str = "1h"
    times: int = 3
    when: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "remind_every": self.remind_every, "times": self.times} | (
            {"when": self.when} if self.when else {}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vip:
        _known(data, {"flag", "remind_every", "times", "when"}, "a VIP rule")
        return cls(data.get("flag", "vip"), data.get("remind_every", "1h"), int(data.get("times", 3)), data.get("when"))

    def applies(self, customer: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        flags = customer.get("flags") or ()
        if self.flag in flags or customer.get(self.flag) is True:
            return True
        if self.when:
            from services.workflow.templates.expressions import parse  # the safe condition engine

            return bool(parse(self.when).evaluate(values))
        return False


@dataclass(frozen=True)
class Targets:
    response: str | None
    resolution: str | None
    rule: str  # which rule chose them: "default", or "region 广东/深圳"


@dataclass(frozen=True)
class NodeSla:
    response: str | None = None
    resolution: str | None = None
    regions: tuple[RegionRule, ...] = ()
    warn_before: str | None = None
    escalation: tuple[Escalation, ...] = ()
    vip: Vip | None = None
    pausable: bool = False
    priorities: tuple[PriorityTargets, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            k: v
            for k, v in (
                ("response", self.response),
                ("resolution", self.resolution),
                ("warn_before", self.warn_before),
            )
            if v
        }
        if self.regions:
            data["regions"] = [r.to_dict() for r in self.regions]
        if self.escalation:
            data["escalation"] = [e.to_dict() for e in self.escalation]
        if self.vip:
            data["vip"] = self.vip.to_dict()
        if self.pausable:
            data["pausable"] = True
        if self.priorities:
            data["priorities"] = {p.priority: p.to_dict() for p in self.priorities}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NodeSla:
        _known(
            data,
            {"response", "resolution", "regions", "warn_before", "escalation", "vip", "pausable", "priorities"},
            "an sla",
        )
        return cls(
            data.get("response"),
            data.get("resolution"),
            tuple(RegionRule.from_dict(r) for r in data.get("regions", ())),
            data.get("warn_before"),
            tuple(Escalation.from_dict(e) for e in data.get("escalation", ())),
            Vip.from_dict(data["vip"]) if data.get("vip") else None,
            bool(data.get("pausable", False)),
            tuple(PriorityTargets.from_dict(k, v) for k, v in (data.get("priorities") or {}).items()),
        )

    def targets(self, region: str | None, priority: str = "normal") -> Targets:
        """The regional targets (`regional`), tightened by the rule for the ticket's `priority`: what
        that rule names replaces them."""
        base = self.regional(region)
        rule = next((p for p in self.priorities if p.priority == priority), None)
        if rule is None:
            return base
        named = f"priority {priority}" if base.rule == "default" else f"{base.rule}, priority {priority}"
        return Targets(rule.response or base.response, rule.resolution or base.resolution, named)

    def regional(self, region: str | None) -> Targets:
        """The base targets, overridden by the most specific regional rule for `region` (the first
        listed among equally specific ones); what that rule leaves out stays the base's."""
        best, depth = None, 0
        for rule in self.regions:
            found = rule.specificity(region)
            if found > depth:
                best, depth = rule, found
        if best is None:
            return Targets(self.response, self.resolution, "default")
        matched = max((r for r in best.regions if region_matches(r, region)), key=lambda r: len(r.split("/")))
        return Targets(best.response or self.response, best.resolution or self.resolution, f"region {matched}")

    def schedule(self, target: timedelta, calendar: Calendar, vip: bool) -> list[tuple[str, timedelta]]:
        """The timers of one clock whose target is `target` of working time, as (key, working time
        from the start), in the order they fire: warn, breach, escalate.N, vip.N."""
        timers = []
        if self.warn_before:
            before = _working(self.warn_before, calendar)
            if before < target:
                timers.append(("warn", target - before))
        timers.append(("breach", target))
        timers += [(f"escalate.{i}", target + _working(step.after, calendar)) for i, step in enumerate(self.escalation)]
        if vip and self.vip:
            every = _working(self.vip.remind_every, calendar)
            timers += [(f"vip.{k}", target + k * every) for k in range(1, self.vip.times + 1)]
        rank = {key: i for i, (key, _) in enumerate(timers)}
        return sorted(timers, key=lambda t: (t[1], rank[t[0]]))

    # --- publish-time validation --------------------------------------------------------

    def problems(self, fields: set[str], calendar: Calendar) -> list[str]:
        found = []
        for kind in CLOCKS:
            value = getattr(self, kind)
            if value is not None and not is_target(value):
                found.append(f"{kind} {value!r} is not a positive duration (30m, 2h, 1d …) or 'next_business_day'")
        if not (self.response or self.resolution):
            found.append("name a response or a resolution target")
        for index, rule in enumerate(self.regions):
            if not rule.regions or not all(isinstance(r, str) and r.strip("/") for r in rule.regions):
                found.append(f"regional rule {index} needs regions (paths like 广东/深圳)")
            if not (rule.response or rule.resolution):
                found.append(f"regional rule {index} changes neither response nor resolution")
            found += [
                f"regional rule {index}: {kind} {getattr(rule, kind)!r} is not a positive duration"
                for kind in CLOCKS
                if getattr(rule, kind) is not None and not is_target(getattr(rule, kind))
            ]
        if self.warn_before is not None and not is_target(self.warn_before):
            found.append(f"warn_before {self.warn_before!r} is not a positive duration")
        if self.warn_before and is_target(self.warn_before):
            for kind in CLOCKS:
                target = getattr(self, kind)
                if (
                    target
                    and is_target(target)
                    and target != "next_business_day"
                    and _working(self.warn_before, calendar) >= _working(target, calendar)
                ):
                    found.append(f"warn_before {self.warn_before!r} is not shorter than the {kind} target {target!r}")
        previous = timedelta(0)
        for index, step in enumerate(self.escalation):
            name = f"escalation step {index}"
            if step.do not in ESCALATIONS:
                found.append(f"{name}: do one of {', '.join(ESCALATIONS)}, not {step.do!r}")
            try:
                after = _working(step.after, calendar)
                if after < previous:
                    found.append(
                        f"{name}: steps come in order of 'after' ({step.after!r} is earlier than the step before)"
                    )
                previous = after
            except CalendarError as error:
                found.append(f"{name}: {error}")
            if step.do == "reassign" and not _handler_ok(step.to):
                found.append(f"{name}: reassign names the backup: to {{kind: user|role|department, value}}")
            if step.do != "reassign" and step.to is not None and step.do != "notify_supervisor":
                found.append(f"{name}: only reassign (or notify_supervisor, as a fallback) takes 'to'")
            if step.do == "notify_supervisor" and step.to is not None and not _handler_ok(step.to):
                found.append(f"{name}: the fallback 'to' is {{kind: user|role|department, value}}")
        for rule in self.priorities:
            if rule.priority not in PRIORITIES:
                found.append(f"priorities: {rule.priority!r} is not one of {', '.join(PRIORITIES)}")
            if not (rule.response or rule.resolution):
                found.append(f"priorities: {rule.priority!r} changes neither response nor resolution")
            found += [
                f"priorities: {rule.priority!r} {kind} {getattr(rule, kind)!r} is not a positive duration"
                for kind in CLOCKS
                if getattr(rule, kind) is not None and not is_target(getattr(rule, kind))
            ]
        if self.vip:
            if not is_target(self.vip.remind_every):
                found.append(f"vip: remind_every {self.vip.remind_every!r} is not a positive duration")
            if not 1 <= self.vip.times <= MAX_VIP_REMINDERS:
                found.append(f"vip: times is 1 to {MAX_VIP_REMINDERS}, not {self.vip.times}")
            if self.vip.when:
                from services.workflow.templates.expressions import ParseError, parse

                try:
                    unknown = sorted(parse(self.vip.when).fields - fields)
                    if unknown:
                        found.append(f"vip: the condition names unknown field(s) {', '.join(unknown)}")
                except ParseError as error:
                    found.append(f"vip: the condition does not parse: {error.message}")
        return found


def _working(text: str, calendar: Calendar) -> timedelta:
    days, rest = parse_duration(text)
    return days * calendar.day_length + rest


def _handler_ok(to: Mapping[str, str] | None) -> bool:
    return bool(to) and to.get("kind") in REASSIGN_KINDS and isinstance(to.get("value"), str) and bool(to["value"])


def _known(data: Mapping[str, Any], keys: set[str], what: str) -> None:
    if not isinstance(data, Mapping):
        raise TypeError(f"{what} is an object")
    unknown = set(data) - keys
    if unknown:
        raise TypeError(f"unknown keys in {what}: {', '.join(sorted(unknown))}")
