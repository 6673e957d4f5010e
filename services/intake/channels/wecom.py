"""The WeCom (企业微信) self-built app callback: every request is signed and encrypted.

wechatpy's WeCom crypto pads PKCS#7 to 32-byte blocks, as WeCom does, and checks that a
message was encrypted for our CorpID.
"""

from __future__ import annotations

from wechatpy.enterprise.crypto import WeChatCrypto

from services.intake.channels import xml
from services.intake.channels.security import Query, Unverified, unseal
from services.intake.tenant import ChannelSettings, WeComApp


class WeCom:
    name = "wecom"
    identity = "wecom_userid"  # an app's messages come from members of the corp
    ack = ""  # WeCom: an empty body means "received, no reply"

    def credentials(self, settings: ChannelSettings) -> WeComApp | None:
        return settings.wecom

    def echo(self, app: WeComApp, query: Query) -> str:
        return unseal(_crypto(app), query, query.get("echostr"))

    def open(self, app: WeComApp, query: Query, body: dict[str, str]) -> dict[str, str]:
        fields = xml.parse(unseal(_crypto(app), query, body.get("Encrypt", "")))
        if fields.get("ToUserName") != app.corp_id or fields.get("AgentID", app.agent_id) != app.agent_id:
            raise Unverified()  # signed with our Token, but for another corp or app
        return fields

    def seal(self, app: WeComApp, query: Query, reply: str) -> str:
        return _crypto(app).encrypt_message(reply, query.nonce, query.timestamp)


def _crypto(app: WeComApp) -> WeChatCrypto:
    return WeChatCrypto(app.token, app.aes_key, app.corp_id)
