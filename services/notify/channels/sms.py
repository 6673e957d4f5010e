"""SMS through a generic HTTP gateway, signed per request.

POST <gateway URL> with a JSON body
  {"to": phone, "sign_name": "【…】 name", "template": the gateway's template code or null,
   "params": {"title", "body", "link"}, "text": the whole message, "out_id": the delivery's id}
and headers X-App-Key, X-Timestamp (Unix seconds), X-Nonce, X-Signature: the hex HMAC-SHA256, under
the tenant's secret, of "<app key>\\n<timestamp>\\n<nonce>\\n<hex SHA-256 of the body>". The gateway
answers {"code": "OK", "message_id": …}; INVALID_NUMBER / BLACKLISTED / UNSUBSCRIBED mean this phone
cannot be reached, BUSY / RATE_LIMITED (or a 5xx, 429) to try again later, anything else a refusal.
A gateway that drops a second request with the same out_id makes a resend after a crash harmless;
one that does not may send that message twice (SCRM_NOTIFY_SMS_DEDUPES says which it is).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from collections.abc import Mapping
from uuid import UUID

from services.notify.channels import Outcome, with_link
from shared.providercalls import CallFailed, Refused, call

UNREACHABLE = frozenset({"INVALID_NUMBER", "BLACKLISTED", "UNSUBSCRIBED"})
BUSY = frozenset({"BUSY", "RATE_LIMITED"})


def signature(secret: str, app_key: str, timestamp: str, nonce: str, body: bytes) -> str:
    text = "\n".join((app_key, timestamp, nonce, hashlib.sha256(body).hexdigest()))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class Sms:
    def __init__(self, url: str, timeout: float, dedupes: bool):
        self.url, self.timeout, self.dedupes = url, timeout, dedupes

    def send(self, delivery_id: UUID, account: Mapping[str, str], address: str, message: Mapping[str, Any]) -> Outcome:
        text = with_link(f"【{account['sign_name']}】{message['title']}：{message['body']}", message["link"])
        body = json.dumps(
            {
                "to": address,
                "sign_name": account["sign_name"],
                "template": account.get("sms_template"),
                "params": {k: message[k] for k in ("title", "body", "link")},
                "text": text,
                "out_id": delivery_id.hex,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-App-Key": account["app_key"],
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": signature(account["secret"], account["app_key"], timestamp, nonce, body),
        }
        try:
            answer = call("POST", self.url, self.timeout, data=body, headers=headers)
        except CallFailed as e:
            return Outcome.transient(str(e))
        except Refused as e:
            return Outcome.refused(str(e))
        code, why = str(answer.get("code", "")), str(answer.get("message", ""))[:200]
        if code == "OK":
            return Outcome.ok(answer.get("message_id"))
        if code in UNREACHABLE:
            return Outcome.cannot_reach(f"SMS {code}: {why}")
        if code in BUSY:
            return Outcome.transient(f"SMS {code}: {why}")
        return Outcome.refused(f"SMS {code or 'no code'}: {why}")
