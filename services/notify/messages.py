"""Message templates (消息模板): what each kind of message says, per tenant and channel, written in
Jinja2 and rendered in its sandboxed environment (a template saved by a tenant's administrator can
read the values it is given and nothing else). No I/O.

Every message has a title, a body and a link to the ticket (a staff link, or the customer's own
progress link): channels put the link where they show links, and add it to the text otherwise.
The official account sends template messages: a template there names the account's template id and
how its fields are filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from collections.abc import Mapping

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from shared.errors import Invalid

_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
MAX_TEXT = 2000
MSGTYPES = ("text", "textcard", "template_card")  # how the WeCom app shows it

DEFAULTS: dict[str, tuple[str, str]] = {  # kind -> (title, body)
    "assigned": ("新工单待处理", "工单 {{ number }} 在节点「{{ node }}」已指派给您（{{ reason }}）。"),
    "pool": ("处理池有新工单", "工单 {{ number }} 进入节点「{{ node }}」，等待{{ pool }}领取处理。"),
    "unassigned": (
        "工单待派单",
        "工单 {{ number }} 在节点「{{ node }}」没有合适的处理人（{{ reason }}），已进入待派单队列，请领取或转派。",
    ),
    "transferred": ("工单转派给您", "{{ by }} 将工单 {{ number }}（节点「{{ node }}」）转派给您。"),
    "handed_over": ("工单已转派", "您在节点「{{ node }}」的工单 {{ number }} 已由 {{ by }} 转派给 {{ handler }}。"),
    "returned": ("工单被退回", "工单 {{ number }} 被 {{ by }} 退回到节点「{{ node }}」，请重新处理。"),
    "sla_warned": (
        "工单即将超时",
        "工单 {{ number }} 在节点「{{ node }}」的{{ clock }}时效即将超时（时限 {{ target }}，截止 {{ deadline }}）。",
    ),
    "sla_breached": (
        "工单已超时",
        "工单 {{ number }} 在节点「{{ node }}」的{{ clock }}时效已超时（时限 {{ target }}，截止 {{ deadline }}）。",
    ),
    "escalated": (
        "{% if vip %}VIP 客户工单催办{% else %}工单超时升级{% endif %}",
        "工单 {{ number }}，节点「{{ node }}」：{{ reason }}",
    ),
    "statement": (
        "结算单已出",
        "工单 {{ number }} 已结算：合计 {{ total }} {{ currency }}，您的收益 {{ payout }} {{ currency }}。",
    ),
    "accepted": (
        "您的工单已受理",
        "{{ customer_name }}您好，您的工单已受理，工单号 {{ number }}。我们会尽快为您处理。",
    ),
    "technician_assigned": (
        "已为您安排技术员",
        "您的工单 {{ number }} 已安排技术员 {{ technician }} 处理，请保持电话畅通。",
    ),
    "completed": ("服务已完成", "您的工单 {{ number }} 已处理完成。感谢您的耐心，欢迎对本次服务进行评价。"),
}
OFFICIAL_ACCOUNT_FIELDS = {
    "first": "{{ title }}",
    "keyword1": "{{ number }}",
    "keyword2": "{{ body }}",
    "remark": "点击查看详情",
}


@dataclass(frozen=True)
class MessageTemplate:
    title: str | None = None  # None: the kind's default
    body: str | None = None
    msgtype: str = "text"  # WeCom app: text, textcard or template_card
    template_id: str | None = None  # official account: the account's template; without one it cannot be sent there
    fields: Mapping[str, str] = field(default_factory=dict)  # official account: field -> Jinja2 text

    def __post_init__(self) -> None:
        if self.msgtype not in MSGTYPES:
            raise Invalid(f"msgtype is one of {', '.join(MSGTYPES)}, not {self.msgtype!r}")
        for name, text in (("title", self.title), ("body", self.body), *self.fields.items()):
            if text is not None:
                _compile(name, text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "msgtype": self.msgtype,
            "template_id": self.template_id,
            "fields": dict(self.fields),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageTemplate:
        return cls(
            data.get("title"),
            data.get("body"),
            data.get("msgtype") or "text",
            data.get("template_id"),
            dict(data.get("fields") or {}),
        )


@lru_cache(maxsize=1024)  # compiling is most of rendering; a tenant has a few dozen texts
def _compile(name: str, text: str):
    if len(text) > MAX_TEXT:
        raise Invalid(f"{name}: at most {MAX_TEXT} characters")
    try:
        return _ENV.from_string(text)
    except TemplateError as e:
        raise Invalid(f"{name}: not a valid template: {e}", field=name) from None


def render(kind: str, template: MessageTemplate, context: Mapping[str, Any], link: str) -> dict[str, Any]:
    """The message for one recipient on one channel: title, body, link, and what the channel needs
    besides (msgtype; the official account's template id and fields)."""
    default_title, default_body = DEFAULTS[kind]
    values = {**context, "link": link}
    title = _fill("title", template.title or default_title, values)
    body = _fill("body", template.body or default_body, values)
    message: dict[str, Any] = {"title": title, "body": body, "link": link, "msgtype": template.msgtype}
    if template.template_id:
        spec = template.fields or OFFICIAL_ACCOUNT_FIELDS
        message["template_id"] = template.template_id
        message["fields"] = {k: _fill(k, v, {**values, "title": title, "body": body}) for k, v in spec.items()}
    return message


def _fill(name: str, text: str, values: Mapping[str, Any]) -> str:
    try:
        return _compile(name, text).render(**values)[:MAX_TEXT]
    except TemplateError as e:  # sandbox violations included: the saved template is at fault, not the event
        raise Invalid(f"message template {name}: {e}") from None
