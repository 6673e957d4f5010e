"""A WeCom chat message through the real platform: an operator sets the tenant up with
`scrm intake tenant`, WeCom posts an encrypted text (twice: it retries), the sender is told
the ticket number, and workflow opens that one ticket."""

import json
import subprocess
import sys
import time
from uuid import UUID

import pytest
import requests
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from shared.contracts import ticket_number
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e

TOKEN, AES_KEY, CORP_ID = "e2eToken42", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww-e2e-corp"


def scrm(platform: Platform, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "services", "intake", "tenant", *args], env=platform.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_wecom_text_becomes_a_ticket_that_workflow_opens(tmp_path):
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    plain = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>lisi</FromUserName>"
             f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
             f"<Content>洗衣机报修：不排水</Content><MsgId>880001</MsgId><AgentID>1000002</AgentID></xml>")

    with Platform(tmp_path / "data") as platform:  # configured while running: the web app must see it
        scrm(platform, "wecom", "acme", "--token", TOKEN, "--aes-key", AES_KEY, "--corp-id", CORP_ID,
             "--agent-id", "1000002")
        shown = scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", "报修", "--template", "repair")
        assert shown["routes"] == [{"channel": "wecom", "keyword": "报修", "template": "repair"}]
        assert AES_KEY not in json.dumps(shown)

        url = f"{platform.urls['intake']}/v1/tenants/acme/wecom/callback"
        replies = []
        for nonce in ("1001", "1002"):  # the first attempt, and WeCom's retry re-encrypted
            sent = xmltodict.parse(crypto.encrypt_message(plain, nonce, str(int(time.time()))))["xml"]
            body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{sent['Encrypt']}</Encrypt></xml>"
            started = time.perf_counter()
            answer = requests.post(url, data=body.encode(), headers={"Content-Type": "text/xml"}, timeout=5,
                                   params={"msg_signature": sent["MsgSignature"], "timestamp": sent["TimeStamp"],
                                           "nonce": sent["Nonce"]})
            assert answer.status_code == 200 and time.perf_counter() - started < 5, answer.text
            out = xmltodict.parse(answer.content)["xml"]
            replies.append(xmltodict.parse(crypto.decrypt_message(
                answer.content, out["MsgSignature"], out["TimeStamp"], out["Nonce"]))["xml"]["Content"])
        assert replies[0] == replies[1]

        view = platform.get("intake", "/v1/tenants/acme/channels/wecom/messages/880001").json()
        assert view["template"] == "repair" and view["number"] in replies[0]
        assert view["number"] == ticket_number(UUID(view["ticket_id"]))
        ticket = platform.wait_for_ticket(view["ticket_id"])
        assert (ticket["node"], ticket["channel"], ticket["customer"]) == ("处理中", "wecom", {"wecom_userid": "lisi"})
        assert ticket["description"] == "洗衣机报修：不排水"
