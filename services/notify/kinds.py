"""What notify tells, on which channels. No I/O.

A message kind is what a customer or staff member opts out of, what a tenant switches on or off
per template and node, and what a message template is written for. Urgent kinds are sent in quiet
hours too (an SLA breach cannot wait for the morning).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import Invalid

STAFF, CUSTOMER = "staff", "customer"


@dataclass(frozen=True)
class Kind:
    key: str
    audience: str  # staff | customer
    label: str  # 中文, for people
    urgent: bool = False


KINDS = {
    k.key: k
    for k in (
        Kind("assigned", STAFF, "工单指派给您"),
        Kind("pool", STAFF, "工单进入您所在的处理池"),
        Kind("unassigned", STAFF, "工单无人可派，进入待派单队列"),
        Kind("transferred", STAFF, "工单转派给您"),
        Kind("handed_over", STAFF, "您的工单已转派他人"),
        Kind("returned", STAFF, "工单退回给您"),
        Kind("sla_warned", STAFF, "时效即将超时"),
        Kind("sla_breached", STAFF, "时效已超时", urgent=True),
        Kind("escalated", STAFF, "超时升级", urgent=True),
        Kind("statement", STAFF, "结算单与您的收益"),
        Kind("accepted", CUSTOMER, "工单已受理"),
        Kind("technician_assigned", CUSTOMER, "已安排技术员"),
        Kind("completed", CUSTOMER, "服务已完成，邀请评价"),
    )
}

# Channels, and the customer identity (as intake names it) each one reaches.
WECOM, WECOM_EXTERNAL, OFFICIAL_ACCOUNT, SMS, EMAIL = "wecom", "wecom_external", "official_account", "sms", "email"
CHANNELS = (WECOM, WECOM_EXTERNAL, OFFICIAL_ACCOUNT, SMS, EMAIL)
IDENTITY_CHANNELS = {
    "openid": OFFICIAL_ACCOUNT,
    "wecom_external_userid": WECOM_EXTERNAL,
    "wecom_userid": WECOM,
    "phone": SMS,
}
ORIGIN_CHANNELS = {"mp": OFFICIAL_ACCOUNT, "wecom": WECOM}  # intake's channel -> where to answer first
CUSTOMER_FALLBACK = (OFFICIAL_ACCOUNT, WECOM_EXTERNAL, WECOM, SMS)  # then, in this order
STAFF_CHANNELS = (WECOM, EMAIL)


def kind(key: str) -> Kind:
    if key not in KINDS:
        raise Invalid(f"no message kind {key!r}; one of {', '.join(KINDS)}", kinds=list(KINDS))
    return KINDS[key]
