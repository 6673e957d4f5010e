"""Driving a running platform's WeCom channel as WeCom does: an operator's `scrm intake tenant`
set-up, and encrypted text messages posted to the callback."""

from __future__ import annotations

import time

import requests
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

TOKEN, AES_KEY, CORP_ID, AGENT_ID = (
    "e2eToken42",
    "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
    "ww-e2e-corp",
    "1000002",
)


def scrm(platform, *args: str, group: str = "tenant") -> dict:
    """`scrm intake GROUP ARGS` against the platform's stores; what it printed, as JSON."""
    return platform.intake_cli(group, *args)


def set_up(platform, tenant: str = "acme") -> dict:
    return scrm(
        platform, "wecom", tenant, "--token", TOKEN, "--aes-key", AES_KEY, "--corp-id", CORP_ID, "--agent-id", AGENT_ID
    )


def send_text(
    platform, content: str, msg_id: str, sender: str = "lisi", nonce: str = "1001", tenant: str = "acme"
) -> tuple[requests.Response, str]:
    """Post one encrypted text message; the answer and the decrypted passive reply."""
    return send(
        platform, f"<MsgType>text</MsgType><Content>{content}</Content><MsgId>{msg_id}</MsgId>", sender, nonce, tenant
    )


def send(
    platform, fields: str, sender: str = "lisi", nonce: str = "1001", tenant: str = "acme"
) -> tuple[requests.Response, str]:
    """Post one encrypted message with these fields (MsgType and what it needs); the answer and
    the decrypted passive reply."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    plain = (
        f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{sender}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>{fields}<AgentID>{AGENT_ID}</AgentID></xml>"
    )
    sent = xmltodict.parse(crypto.encrypt_message(plain, nonce, str(int(time.time()))))["xml"]
    body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{sent['Encrypt']}</Encrypt></xml>"
    answer = requests.post(
        f"{platform.urls['intake']}/v1/tenants/{tenant}/wecom/callback",
        data=body.encode(),
        headers={"Content-Type": "text/xml"},
        timeout=5,
        params={"msg_signature": sent["MsgSignature"], "timestamp": sent["TimeStamp"], "nonce": sent["Nonce"]},
    )
    assert answer.status_code == 200, answer.text
    out = xmltodict.parse(answer.content)["xml"]
    reply = xmltodict.parse(
        crypto.decrypt_message(answer.content, out["MsgSignature"], out["TimeStamp"], out["Nonce"])
    )["xml"]["Content"]
    return answer, reply


# --- the official account (公众号), in plain mode: signed, not encrypted ------------------------------

MP_TOKEN, MP_APP_ID, MP_ACCOUNT = "e2eMpToken7", "wx-e2e-app", "gh_e2e"


def set_up_official_account(platform, tenant: str = "acme") -> dict:
    return scrm(
        platform, "mp", tenant, "--app-id", MP_APP_ID, "--token", MP_TOKEN, "--mode", "plain", "--account", MP_ACCOUNT
    )


def send_to_official_account(platform, fields: str, openid: str, tenant: str = "acme") -> requests.Response:
    """Post one plain message or event from the follower `openid`, signed as WeChat signs it."""
    from wechatpy.utils import WeChatSigner

    timestamp, nonce = str(int(time.time())), "2002"
    signer = WeChatSigner()
    signer.add_data(MP_TOKEN, timestamp, nonce)
    plain = (
        f"<xml><ToUserName>{MP_ACCOUNT}</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime>{fields}</xml>"
    )
    answer = requests.post(
        f"{platform.urls['intake']}/v1/tenants/{tenant}/mp/callback",
        data=plain.encode(),
        headers={"Content-Type": "text/xml"},
        timeout=5,
        params={"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": openid},
    )
    assert answer.status_code == 200, answer.text
    return answer
