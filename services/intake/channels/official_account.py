"""The official account (公众号) server: plain mode (signed query, clear XML) or safe mode
(安全模式: the message is encrypted and signed with `msg_signature`).

In plain mode the signature covers only the timestamp and nonce, not the body: that is
WeChat's design, and why safe mode is the one to use; the replay window and the message
id dedupe still hold.
"""

from __future__ import annotations

from wechatpy.crypto import WeChatCrypto

from services.intake.channels import xml
from services.intake.channels.security import Query, Unverified, check_signature, unseal
from services.intake.tenant import ChannelSettings, OfficialAccount


class OfficialAccountServer:
    name = "mp"
    identity = "openid"  # the follower's id under this official account
    ack = "success"  # what WeChat documents for "received, no reply"

    def credentials(self, settings: ChannelSettings) -> OfficialAccount | None:
        return settings.official_account

    def echo(self, account: OfficialAccount, query: Query) -> str:
        check_signature(account.token, query.get("signature"), query.timestamp, query.nonce)
        return query.get("echostr")

    def open(self, account: OfficialAccount, query: Query, body: dict[str, str]) -> dict[str, str]:
        if account.mode == "safe":
            fields = xml.parse(unseal(_crypto(account), query, body.get("Encrypt", "")))
        else:
            check_signature(account.token, query.get("signature"), query.timestamp, query.nonce)
            fields = body
        if account.account and fields.get("ToUserName") != account.account:
            raise Unverified()  # addressed to another official account
        return fields

    def seal(self, account: OfficialAccount, query: Query, reply: str) -> str:
        if account.mode == "safe":
            return _crypto(account).encrypt_message(reply, query.nonce, query.timestamp)
        return reply


def _crypto(account: OfficialAccount) -> WeChatCrypto:
    return WeChatCrypto(account.token, account.aes_key, account.app_id)
