"""The official account (公众号): template messages (message/template/send) to a follower's openid.

Each send carries `client_msg_id` (the delivery's id): WeChat sends one message per openid and
client_msg_id, for about ten minutes. A kind of message whose template the tenant has not set up
(the account's template id and how its fields are filled) cannot go this way: the next channel may.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping
from uuid import UUID

from services.notify.channels import Outcome
from services.notify.channels.tencent import TokenedCall, fetch_token
from shared.accesstokens import TokenCache


class OfficialAccount:
    dedupes = True

    def __init__(self, base_url: str, tokens: TokenCache, timeout: float):
        self.base_url = base_url
        self.calls = TokenedCall(tokens, timeout)
        self.timeout = timeout

    def send(self, delivery_id: UUID, account: Mapping[str, str], address: str, message: Mapping[str, Any]) -> Outcome:
        if not message.get("template_id"):
            return Outcome.cannot_reach("公众号未设置此类消息的模板（template_id）")
        body = {
            "touser": address,
            "template_id": message["template_id"],
            "url": message["link"],
            "client_msg_id": delivery_id.hex,
            "data": {k: {"value": v} for k, v in message["fields"].items()},
        }
        key = ("official_account", self.base_url, account["app_id"])
        fetch = fetch_token(
            f"{self.base_url}/cgi-bin/token",
            {"grant_type": "client_credential", "appid": account["app_id"], "secret": account["secret"]},
            self.timeout,
        )
        answer = self.calls.post(key, fetch, f"{self.base_url}/cgi-bin/message/template/send", body)
        return answer if isinstance(answer, Outcome) else Outcome.ok(answer.get("msgid"))
