"""Chat messages that raise no ticket: a subscribe registers the follower as a customer; an
image or a location goes to the sender's open ticket, or is kept on the customer when they
have none. A retry (same MsgId) finds what the first attempt recorded."""

from __future__ import annotations

import math

from shared.contracts import ticket_number

from services.intake.application import IntakeApplication
from services.intake.channels.inbound import MAX_ID

WELCOME = "感谢关注！直接发送文字描述您的问题，即可提交工单。"
KEPT = "已收到。您目前没有处理中的工单；发送文字描述问题即可提交工单。"
MAX_URL = 2000


def answer(intake: IntakeApplication, tenant: str, channel: str, identity: str, fields: dict[str, str]) -> str | None:
    """The reply to send, or None to only acknowledge."""
    sender, kind = fields.get("FromUserName", ""), fields.get("MsgType", "").lower()
    if not 0 < len(sender) <= MAX_ID:
        return None
    if kind == "event" and fields.get("Event", "").lower() == "subscribe":
        intake.customers.register(tenant, channel, {identity: sender})
        return WELCOME
    message_id = fields.get("MsgId", "")
    if not 0 < len(message_id) <= MAX_ID:
        return None
    if kind == "image" and 0 < len(fields.get("MediaId", "")) <= MAX_ID:
        url = fields.get("PicUrl", "")[:MAX_URL] or None
        record = lambda customer: customer.receive_image(channel, message_id, fields["MediaId"], url)
    elif kind == "location" and (place := _place(fields)) is not None:
        record = lambda customer: customer.receive_location(channel, message_id, *place)
    else:
        return None  # voice, video, links, other events: acknowledged
    ticket_id = intake.customers.receive(tenant, channel, {identity: sender}, record)
    return f"已收到，已加入工单 {ticket_number(ticket_id)}。" if ticket_id else KEPT


def _place(fields: dict[str, str]) -> tuple[float, float, str | None] | None:
    try:
        latitude, longitude = float(fields.get("Location_X", "")), float(fields.get("Location_Y", ""))
    except ValueError:
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180):
        return None
    return latitude, longitude, fields.get("Label", "")[:500] or None
