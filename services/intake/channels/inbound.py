"""What a chat message asks for: a ticket, routed by keyword or menu key, once per message; or, from
a customer with a ticket open, a word about it that goes to that ticket's conversation."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shared.contracts import ticket_number

from services.intake.application import IntakeApplication
from services.intake.domain import ticket_id
from services.intake.tenant import ChannelSettings

MAX_DESCRIPTION = 4000
MAX_ID = 128
UNSUBSCRIBE = ("TD", "退订")  # what a customer replies to be told nothing more (as SMS has taught them)
OPTED_OUT = "您已退订本渠道的消息通知。如需报修，发送文字描述问题即可提交工单。"
FOLLOWED_UP = "已收到，已加入工单 {number} 的沟通记录。"


@dataclass(frozen=True)
class Message:
    sender: str  # FromUserName: the WeCom userid or the follower's openid
    recipient: str  # ToUserName: the CorpID or the official account
    submission_id: str  # the channel's id for it: the same on every retry
    text: str | None = None
    menu_key: str | None = None

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Message | None:
        """The message if it raises a ticket; None for everything else (see channels/media.py)."""
        sender, recipient = fields.get("FromUserName", ""), fields.get("ToUserName", "")
        # Tencent's own id for the message; events have none, and one sender's event is
        # unique per second.
        submission_id = fields.get("MsgId") or f"{sender}:{fields.get('CreateTime', '')}"
        if not (0 < len(sender) <= MAX_ID and 0 < len(recipient) <= MAX_ID and len(submission_id) <= MAX_ID):
            return None
        kind, event = fields.get("MsgType", "").lower(), fields.get("Event", "").lower()
        if kind == "text" and fields.get("Content"):
            return cls(sender, recipient, submission_id, text=fields["Content"][:MAX_DESCRIPTION])
        if kind == "event" and event == "click" and 0 < len(fields.get("EventKey", "")) <= MAX_ID:
            return cls(sender, recipient, submission_id, menu_key=fields["EventKey"])
        return None

    @property
    def description(self) -> str:
        return self.text or f"菜单「{self.menu_key}」"


def accept(intake: IntakeApplication, settings: ChannelSettings, channel: str, identity: str, message: Message) -> str:
    """Record the message as a submission (a retry finds the one already recorded) and say
    which ticket it became; a text no keyword routes, from a customer with a ticket open, goes to
    that ticket's conversation instead; for TD / 退订, they are told nothing more on this channel."""
    if message.text is not None and message.text.strip().upper() in UNSUBSCRIBE:
        intake.customers.opt_out(settings.tenant, channel, identity, message.sender, message.submission_id)
        return OPTED_OUT
    routed = settings.route(channel, text=message.text, menu_key=message.menu_key)
    if routed.by == "default" and message.text is not None:
        followed = follow_up(intake, settings.tenant, channel, identity, message)
        if followed is not None:
            return FOLLOWED_UP.format(number=ticket_number(followed))
    accepted = intake.submit(
        settings.tenant,
        channel,
        message.submission_id,
        {identity: message.sender},
        message.description,
        routed.template,
        routed.as_dict(),
        link_now=True,
    )
    return f"已受理，工单号 {ticket_number(accepted.ticket_id)}。我们会尽快联系您。"


def follow_up(intake: IntakeApplication, tenant: str, channel: str, identity: str, message: Message) -> UUID | None:
    """The open ticket whose conversation the text went to; None when the sender has none open, or
    when the text raised a ticket itself (a retry of it must reach that ticket again)."""
    own = ticket_id(tenant, channel, message.submission_id)
    if intake.accepted_before(tenant, channel, message.submission_id):
        return None
    return intake.customers.receive(
        tenant,
        channel,
        {identity: message.sender},
        lambda customer: (
            None
            if customer.open_ticket == own
            else customer.receive_message(channel, message.submission_id, message.text)
        ),
    )
