"""WeCom (企业微信): app messages to members, departments and tags (message/send), and messages to
customers who are the corp's external contacts (externalcontact/add_msg_template).

message/send carries `enable_duplicate_check` with the longest interval WeCom allows (4 hours): WeCom
drops a request whose JSON equals one it took within that time, and the delivery's id is in every
message's link, so sending one delivery again (after a crash between WeCom's answer and the record
of it) shows nothing twice. `invaliduser` / `invalidparty` / `invalidtag` naming the recipient mean
this channel cannot reach them: recorded, not retried. add_msg_template has no duplicate check; WeCom
also lets a corp send each external contact only a few such messages a month.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping
from uuid import UUID

from services.notify.channels import Outcome, marked, with_link
from services.notify.channels.tencent import TokenedCall, fetch_token
from shared.accesstokens import TokenCache

DUPLICATE_CHECK_SECONDS = 4 * 3600


class WeComApi:
    def __init__(self, base_url: str, tokens: TokenCache, timeout: float):
        self.base_url = base_url
        self.calls = TokenedCall(tokens, timeout)
        self.timeout = timeout

    def post(self, account: Mapping[str, str], path: str, body: Any) -> dict[str, Any] | Outcome:
        key = ("wecom", self.base_url, account["corp_id"], account["agent_id"])
        fetch = fetch_token(
            f"{self.base_url}/cgi-bin/gettoken",
            {"corpid": account["corp_id"], "corpsecret": account["secret"]},
            self.timeout,
        )
        return self.calls.post(key, fetch, f"{self.base_url}/cgi-bin/{path}", body)


class WeComApp:
    dedupes = True

    def __init__(self, api: WeComApi):
        self.api = api

    def send(self, delivery_id: UUID, account: Mapping[str, str], address: str, message: Mapping[str, Any]) -> Outcome:
        scope, _, value = address.rpartition(":")
        to = {"party": "toparty", "tag": "totag"}.get(scope, "touser")
        url = marked(message["link"], delivery_id)
        msgtype = message.get("msgtype", "text")
        body = {
            to: value,
            "msgtype": msgtype,
            "agentid": int(account["agent_id"]),
            msgtype: content(msgtype, message, url),
            "enable_duplicate_check": 1,
            "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
        }
        answer = self.api.post(account, "message/send", body)
        if isinstance(answer, Outcome):
            return answer
        invalid = {"touser": "invaliduser", "toparty": "invalidparty", "totag": "invalidtag"}[to]
        refused = {v.lower() for v in str(answer.get(invalid, "")).split("|") if v}
        refused |= {v.lower() for v in str(answer.get("unlicenseduser", "")).split("|") if v and to == "touser"}
        if value.lower() in refused:
            return Outcome.cannot_reach(f"WeCom: {invalid} {value}")
        return Outcome.ok(answer.get("msgid"))


def content(msgtype: str, message: Mapping[str, Any], url: str) -> dict[str, Any]:
    title, body = message["title"], message["body"]
    if msgtype == "textcard":
        return {"title": title, "description": body, "url": url, "btntxt": "详情"}
    if msgtype == "template_card":
        return {
            "card_type": "text_notice",
            "main_title": {"title": title},
            "sub_title_text": body,
            "card_action": {"type": 1, "url": url},
        }
    return {"content": with_link(f"{title}\n{body}", url)}


class WeComExternal:
    dedupes = False

    def __init__(self, api: WeComApi):
        self.api = api

    def send(self, delivery_id: UUID, account: Mapping[str, str], address: str, message: Mapping[str, Any]) -> Outcome:
        body: dict[str, Any] = {
            "chat_type": "single",
            "external_userid": [address],
            "text": {"content": with_link(f"{message['title']}\n{message['body']}", message["link"])},
        }
        if account.get("external_sender"):
            body["sender"] = account["external_sender"]
        answer = self.api.post(account, "externalcontact/add_msg_template", body)
        if isinstance(answer, Outcome):
            return answer
        if address in (answer.get("fail_list") or []):
            return Outcome.cannot_reach(f"WeCom: {address} is not an external contact of the sender")
        return Outcome.ok(answer.get("msgid"))
