"""A tenant's notify set-up (通知设置): which kinds of message are sent for which template and node, and
how urgent they are; the message templates; quiet hours; the links messages carry; WeCom departments
or tags that stand for a pool. One aggregate per tenant, its id derived from the tenant. No I/O.

The most specific setting wins: (kind, template, node), then (kind, template, *), then (kind, *, *),
then the built-in default (every kind on, urgent as `kinds.KINDS` says).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid
from shared.pertenant import tenant_uuid

from services.notify.kinds import CHANNELS, KINDS, kind
from services.notify.messages import MessageTemplate

_IDS = UUID("7a4e0c3b-1f52-4d8e-a6b9-3c2d1e0f9a84")
ANY = "*"
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SCOPE = re.compile(r"^(\*|[A-Za-z0-9_.@:\u4e00-\u9fff-]{1,64})$")
DEFAULT_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Rule:
    enabled: bool = True
    urgent: bool | None = None  # None: as the kind is


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` local time (an end before the start runs past midnight)."""

    start: time
    end: time
    zone: str = DEFAULT_ZONE

    def until(self, now: datetime) -> datetime | None:
        """When quiet hours end, if `now` is in them; else None."""
        local = now.astimezone(ZoneInfo(self.zone))
        clock = local.time()
        inside = (
            (self.start <= clock < self.end) if self.start < self.end else (clock >= self.start or clock < self.end)
        )
        if not inside:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(now.tzinfo)

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"), "zone": self.zone}

    @classmethod
    def parse(cls, start: str, end: str, zone: str = DEFAULT_ZONE) -> QuietHours:
        times = []
        for text in (start, end):
            found = _CLOCK.match(text or "")
            if not found:
                raise Invalid(f"a time of day is HH:MM, not {text!r}")
            times.append(time(int(found[1]), int(found[2])))
        if times[0] == times[1]:
            raise Invalid("quiet hours must not start and end at the same time")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"not a time zone: {zone!r} (e.g. Asia/Shanghai)") from None
        return cls(times[0], times[1], zone)


def setup_id(tenant: str) -> UUID:
    return tenant_uuid(_IDS, tenant)


def _scope(template: str, node: str) -> tuple[str, str]:
    for name in (template, node):
        if not _SCOPE.match(name):
            raise Invalid(f"not a template or node key: {name!r} ({ANY} for any)")
    if template == ANY and node != ANY:
        raise Invalid("a node belongs to a template: name the template too")
    return template, node


class NotifySetup(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return setup_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.rules: dict[str, dict[str, Any]] = {}  # "kind|template|node" -> Rule fields
        self.templates: dict[str, dict[str, Any]] = {}  # "kind|channel|template|node" -> MessageTemplate
        self.quiet: dict[str, str] | None = None
        self.links: dict[str, str] = {}  # staff / customer -> URL pattern
        self.groups: dict[str, dict[str, str]] = {}  # "role:x" -> {"party": "3"} or {"tag": "7"}

    # --- reading ----------------------------------------------------------------------

    def rule(self, kind_key: str, template: str | None, node: str | None) -> Rule:
        for key in _specific(kind_key, template, node):
            if key in self.rules:
                return Rule(**self.rules[key])
        return Rule()

    def urgent(self, kind_key: str, template: str | None, node: str | None) -> bool:
        rule = self.rule(kind_key, template, node)
        return KINDS[kind_key].urgent if rule.urgent is None else rule.urgent

    def message_template(self, kind_key: str, channel: str, template: str | None, node: str | None) -> MessageTemplate:
        for key in _specific(kind_key, template, node):
            found = self.templates.get(f"{key.split('|')[0]}|{channel}|{key.split('|', 1)[1]}")
            if found is not None:
                return MessageTemplate.from_dict(found)
        return MessageTemplate()

    @property
    def quiet_hours(self) -> QuietHours | None:
        return QuietHours.parse(**self.quiet) if self.quiet else None

    # --- changing ---------------------------------------------------------------------

    def set_rule(self, kind_key: str, template: str, node: str, rule: Rule, by: str) -> None:
        kind(kind_key)
        template, node = _scope(template, node)
        self._rule_set(kind=kind_key, template=template, node=node, enabled=rule.enabled, urgent=rule.urgent, by=by)

    @event("RuleSet")
    def _rule_set(self, kind: str, template: str, node: str, enabled: bool, urgent: bool | None, by: str) -> None:
        self.rules[f"{kind}|{template}|{node}"] = {"enabled": enabled, "urgent": urgent}

    def set_message_template(
        self, kind_key: str, channel: str, template: str, node: str, message: MessageTemplate, by: str
    ) -> None:
        kind(kind_key)
        if channel not in CHANNELS:
            raise Invalid(f"channel is one of {', '.join(CHANNELS)}, not {channel!r}")
        template, node = _scope(template, node)
        self._template_set(
            kind=kind_key, channel=channel, template=template, node=node, message=message.to_dict(), by=by
        )

    @event("MessageTemplateSet")
    def _template_set(
        self, kind: str, channel: str, template: str, node: str, message: dict[str, Any], by: str
    ) -> None:
        self.templates[f"{kind}|{channel}|{template}|{node}"] = message

    def remove_message_template(self, kind_key: str, channel: str, template: str, node: str, by: str) -> bool:
        if f"{kind_key}|{channel}|{template}|{node}" not in self.templates:
            return False
        self._template_removed(kind=kind_key, channel=channel, template=template, node=node, by=by)
        return True

    @event("MessageTemplateRemoved")
    def _template_removed(self, kind: str, channel: str, template: str, node: str, by: str) -> None:
        del self.templates[f"{kind}|{channel}|{template}|{node}"]

    def set_quiet_hours(self, quiet: QuietHours | None, by: str) -> None:
        self._quiet_hours_set(quiet=quiet.to_dict() if quiet else None, by=by)

    @event("QuietHoursSet")
    def _quiet_hours_set(self, quiet: dict[str, str] | None, by: str) -> None:
        self.quiet = quiet

    def set_links(self, staff: str | None, customer: str | None, by: str) -> None:
        links = {k: v for k, v in (("staff", staff), ("customer", customer)) if v}
        for pattern in links.values():
            if not pattern.startswith(("https://", "http://")) or "{ticket_id}" not in pattern:
                raise Invalid("a link is an http(s) URL with {ticket_id} in it (and {token} for customers)")
        self._links_set(links=links, by=by)

    @event("LinksSet")
    def _links_set(self, links: dict[str, str], by: str) -> None:
        self.links = links

    def set_group(self, pool: str, party: str | None, tag: str | None, by: str) -> None:
        """Tell a pool through one WeCom message to a department (party) or tag instead of one per member."""
        if not re.match(r"^(role|department):[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$", pool):
            raise Invalid(f"a pool is role:<role> or department:<department>, not {pool!r}")
        if party and tag or not re.match(r"^\d{1,12}$", party or tag or ""):
            raise Invalid("give one WeCom department id (party) or tag id, a number")
        self._group_set(pool=pool, group={"party": party} if party else {"tag": tag}, by=by)

    @event("GroupSet")
    def _group_set(self, pool: str, group: dict[str, str], by: str) -> None:
        self.groups[pool] = group


def _specific(kind_key: str, template: str | None, node: str | None) -> list[str]:
    keys = []
    if template and node:
        keys.append(f"{kind_key}|{template}|{node}")
    if template:
        keys.append(f"{kind_key}|{template}|{ANY}")
    return keys + [f"{kind_key}|{ANY}|{ANY}"]
