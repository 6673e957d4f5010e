"""The WeCom and official-account callbacks against a real store (SQLite and PostgreSQL):
Tencent's published sample vectors, messages encrypted here with wechatpy, concurrent
retries, and every way a request can be refused."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto as OfficialAccountCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from shared.contracts import ticket_number, validate_envelope
from shared.persistence import outbox_reader
from shared.secrets import KEYS_VARIABLE, SecretBox

from services.intake import bootstrap
from services.intake.api import create_app
from services.intake.domain import ticket_id
from services.intake.tenant import settings_id
from tests.support.identity import bearer, identity_of, issue_key, open_tenant, replicate, staff

# Tencent's WeCom sample (github.com/sbzhu/weworkapi_python, callback/Sample.py): the
# settings a corp entered and the requests WeCom sent with them.
WECOM = {
    "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    "aes_key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
    "corp_id": "ww1436e0e65a779aee",
    "agent_id": "1000002",
}
WECOM_VERIFY = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
}
WECOM_MESSAGE_QUERY = {
    "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    "timestamp": "1476422779",
    "nonce": "1597212914",
}
WECOM_MESSAGE = (  # decrypts to a text 你好 from ChenJiaShun, MsgId 1456453720, AgentID 1000002
    "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew"
    "+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24Yh"
    "mZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwo"
    "cugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+]]></Encrypt>\n"
    "<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)
# The earlier version of the same sample (corp wx5823bf96d3bd56c7), still in its comments and
# in Tencent's C# / Java samples.
WECOM_OLD = {
    "token": "QDG6eK",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "corp_id": "wx5823bf96d3bd56c7",
    "agent_id": "218",
}
WECOM_OLD_VERIFY = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
WECOM_OLD_MESSAGE_QUERY = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
}
WECOM_OLD_MESSAGE = (  # a text "hello" from mycreate, MsgId 4561255354251345929, AgentID 218
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
    "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc"
    "2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL"
    "4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lX"
    "dQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
)
# Tencent's official-account sample (WXBizMsgCrypt for 公众平台): Token spamtest, safe mode.
MP = {"app_id": "wx2c2769f8efd9abc2", "token": "spamtest", "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
MP_QUERY = {
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "encrypt_type": "aes",
    "signature": "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
}
MP_MESSAGE = (  # a text abcdteT from oyORnuP8q7ou2gfYjqLzSIWZf0rs to gh_10f6c3c3ac5a, MsgId 6054768590064713728
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA["
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt"
    "+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0"
    "EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    "]]></Encrypt></xml>"
)

WECOM_PATH = "/v1/tenants/acme/wecom/callback"
MP_PATH = "/v1/tenants/acme/mp/callback"
SECRET_KEY = SecretBox.new_key()


@pytest.fixture(autouse=True)
def secret_keys(monkeypatch):
    """The key the channels' credentials are sealed with (shared/secrets.py)."""
    monkeypatch.setenv(KEYS_VARIABLE, SECRET_KEY)


@pytest.fixture
def intake(settings, secret_keys):
    open_tenant(settings)
    replicate(settings, bootstrap)
    app = bootstrap.application(settings)
    seal = app.secrets.seal
    app.configure(
        "acme",
        lambda s: (
            s.configure_wecom(**WECOM, seal=seal),
            s.configure_official_account(mode="safe", **MP, seal=seal),
            s.set_route("wecom", "keyword", "报修", "repair"),
            s.set_route("mp", "menu", "V1001_INSTALL", "install"),
        ),
    )
    return app


def client(intake, now: float | str | None = None):
    return create_app(intake, identity_of(intake), clock=(lambda: float(now)) if now else time.time).test_client()


def published(settings) -> list:
    reader = outbox_reader("intake", settings)
    try:
        return reader.read(0)
    finally:
        reader.close()


def wecom_message(
    content: str = "空调报修",
    msg_id: str = "7001",
    sender: str = "zhangsan",
    corp_id: str = WECOM["corp_id"],
    agent_id: str = WECOM["agent_id"],
    msg_type: str = "text",
    extra: str = "",
) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID>"
        f"{extra}</xml>"
    )


def sealed(plain: str, crypto=None, nonce: str | None = None) -> tuple[dict, str]:
    """What WeCom sends: the query and the body of an encrypted callback."""
    crypto = crypto or WeComCrypto(WECOM["token"], WECOM["aes_key"], WECOM["corp_id"])
    nonce = nonce or str(random.randrange(10**9))
    out = xmltodict.parse(crypto.encrypt_message(plain, nonce, str(int(time.time()))))["xml"]
    body = (
        f"<xml><ToUserName><![CDATA[{WECOM['corp_id']}]]></ToUserName><Encrypt><![CDATA[{out['Encrypt']}]]>"
        f"</Encrypt><AgentID><![CDATA[{WECOM['agent_id']}]]></AgentID></xml>"
    )
    return {"msg_signature": out["MsgSignature"], "timestamp": out["TimeStamp"], "nonce": out["Nonce"]}, body


def opened(reply: bytes, crypto) -> dict:
    """The passive reply as the sender's client decrypts it."""
    out = xmltodict.parse(reply)["xml"]
    return xmltodict.parse(crypto.decrypt_message(reply, out["MsgSignature"], out["TimeStamp"], out["Nonce"]))["xml"]


def post(c, path, query, body, content_type="text/xml"):
    return c.post(path, query_string=query, data=body, content_type=content_type)


# --- Tencent's published vectors ---------------------------------------------------------


def test_wecom_url_verification_with_tencents_sample(intake):
    answer = client(intake, WECOM_VERIFY["timestamp"]).get(WECOM_PATH, query_string=WECOM_VERIFY)
    assert (answer.status_code, answer.text) == (200, "1288432023552776189")


def test_channel_secrets_are_sealed_in_the_store_and_the_callbacks_still_verify(intake, settings, monkeypatch):
    stored = b"".join(e.state for e in intake.recorder.select_events(settings_id("acme")))  # the table's bytes
    for secret in (WECOM["token"], WECOM["aes_key"], MP["token"], MP["aes_key"]):
        assert secret.encode() not in stored
    assert WECOM["corp_id"].encode() in stored and MP["app_id"].encode() in stored  # no secrets: as they were
    answer = client(intake, WECOM_VERIFY["timestamp"]).get(WECOM_PATH, query_string=WECOM_VERIFY)
    assert (answer.status_code, answer.text) == (200, "1288432023552776189")

    monkeypatch.setenv(KEYS_VARIABLE, SecretBox.new_key())  # the key that sealed them dropped too soon
    keyless = bootstrap.application(settings)
    refused = client(keyless, WECOM_VERIFY["timestamp"]).get(WECOM_PATH, query_string=WECOM_VERIFY)
    assert refused.status_code == 503 and refused.json["error"]["code"] == "unavailable"
    assert WECOM["token"] not in refused.text


def test_wecom_message_from_tencents_sample_becomes_a_ticket_and_the_reply_names_it(intake, settings):
    c = client(intake, WECOM_MESSAGE_QUERY["timestamp"])
    answer = post(c, WECOM_PATH, WECOM_MESSAGE_QUERY, WECOM_MESSAGE)
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    reply = opened(answer.data, WeComCrypto(WECOM["token"], WECOM["aes_key"], WECOM["corp_id"]))
    expected = ticket_id("acme", "wecom", "1456453720")
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("ChenJiaShun", WECOM["corp_id"], "text")
    assert ticket_number(expected) in reply["Content"]

    [envelope] = published(settings)
    assert envelope.subject == expected and envelope.schema_version == 2
    customer_id = envelope.data.pop("customer_id")  # the sender became a customer: see test_intake_customers
    assert envelope.data == {
        "channel": "wecom",
        "submission_id": "1456453720",
        "description": "你好",
        "customer": {"wecom_userid": "ChenJiaShun"},
        "template": "default",
        "route": {"by": "default"},
    }
    assert intake.customers.by_identity("acme", "wecom_userid", "ChenJiaShun").id == UUID(customer_id)
    assert validate_envelope(envelope) is envelope
    look_up = "/v1/tenants/acme/channels/wecom/messages/1456453720"
    assert c.get(look_up).status_code == 401  # it shows the customer: for holders of the tenant's keys
    key = issue_key(settings, "read")
    replicate(settings, bootstrap)
    view = c.get(look_up, headers=bearer(key)).json
    assert (view["ticket_id"], view["number"]) == (str(expected), ticket_number(expected))


def test_the_earlier_wecom_sample_vectors_verify_too(settings):
    open_tenant(settings, "old-corp")
    replicate(settings, bootstrap)
    intake = bootstrap.application(settings)
    intake.configure("old-corp", lambda s: s.configure_wecom(**WECOM_OLD, seal=intake.secrets.seal))
    path = "/v1/tenants/old-corp/wecom/callback"
    verify = client(intake, WECOM_OLD_VERIFY["timestamp"]).get(path, query_string=WECOM_OLD_VERIFY)
    assert (verify.status_code, verify.text) == (200, "1616140317555161061")
    c = client(intake, WECOM_OLD_MESSAGE_QUERY["timestamp"])
    answer = post(c, path, WECOM_OLD_MESSAGE_QUERY, WECOM_OLD_MESSAGE)
    reply = opened(answer.data, WeComCrypto(WECOM_OLD["token"], WECOM_OLD["aes_key"], WECOM_OLD["corp_id"]))
    assert reply["ToUserName"] == "mycreate"
    assert ticket_number(ticket_id("old-corp", "wecom", "4561255354251345929")) in reply["Content"]


def test_official_account_safe_mode_with_tencents_sample(intake, settings):
    c = client(intake, MP_QUERY["timestamp"])
    verify = c.get(MP_PATH, query_string={**MP_QUERY, "echostr": "shr5ch"})
    assert (verify.status_code, verify.text) == (200, "shr5ch")
    answer = post(c, MP_PATH, MP_QUERY, MP_MESSAGE)
    assert answer.status_code == 200
    reply = opened(answer.data, OfficialAccountCrypto(MP["token"], MP["aes_key"], MP["app_id"]))
    assert (reply["ToUserName"], reply["FromUserName"]) == ("oyORnuP8q7ou2gfYjqLzSIWZf0rs", "gh_10f6c3c3ac5a")
    assert ticket_number(ticket_id("acme", "mp", "6054768590064713728")) in reply["Content"]
    [envelope] = published(settings)
    assert envelope.data["customer"] == {"openid": "oyORnuP8q7ou2gfYjqLzSIWZf0rs"}
    assert envelope.data["description"] == "abcdteT"


# --- messages encrypted here -------------------------------------------------------------


def test_a_keyword_routes_a_wecom_text_to_its_template(intake, settings):
    query, body = sealed(wecom_message("家里空调报修，不制冷"))
    assert post(client(intake), WECOM_PATH, query, body).status_code == 200
    [envelope] = published(settings)
    assert (envelope.data["template"], envelope.data["route"]) == ("repair", {"by": "keyword", "key": "报修"})


def test_images_locations_and_events_are_acknowledged_without_a_ticket(intake, settings):
    c = client(intake)
    for plain in (
        wecom_message(msg_type="image", content="", extra="<PicUrl>http://x/1.jpg</PicUrl>"),
        wecom_message(msg_type="location", content="", extra="<Location_X>31.2</Location_X>"),
        wecom_message(msg_type="event", content="", extra="<Event>enter_agent</Event>"),
    ):
        answer = post(c, WECOM_PATH, *sealed(plain))
        assert (answer.status_code, answer.data) == (200, b"")
    assert published(settings) == []


def test_wecom_retries_concurrent_same_bytes_or_re_encrypted_make_exactly_one_ticket(intake, settings):
    plain = wecom_message("热水器报修", msg_id="9001")
    first = sealed(plain)
    attempts = [first] * 6 + [sealed(plain) for _ in range(6)]  # same bytes; same MsgId, new nonce
    c = client(intake)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda a: post(c, WECOM_PATH, *a), attempts))
    assert {a.status_code for a in answers} == {200}
    crypto = WeComCrypto(WECOM["token"], WECOM["aes_key"], WECOM["corp_id"])
    number = ticket_number(ticket_id("acme", "wecom", "9001"))
    assert all(number in opened(a.data, crypto)["Content"] for a in answers)
    assert [e.subject for e in published(settings)] == [ticket_id("acme", "wecom", "9001")]


def official_account_message(fields: str, to: str = "gh_acme") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[openid-1]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>{fields}</xml>"
    )


def plain_query(token: str = "mptoken1") -> dict:
    from wechatpy.utils import WeChatSigner

    timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": "openid-1"}


def test_official_account_plain_mode_menu_clicks_texts_and_subscribes(settings):
    open_tenant(settings, "shop")
    replicate(settings, bootstrap)
    intake = bootstrap.application(settings)
    intake.configure(
        "shop",
        lambda s: (
            s.configure_official_account("wxshop", "mptoken1", None, "plain", "gh_acme", seal=intake.secrets.seal),
            s.set_route("mp", "menu", "V1001_INSTALL", "install"),
        ),
    )
    c, path = client(intake), "/v1/tenants/shop/mp/callback"
    verify = c.get(path, query_string={**plain_query(), "echostr": "echo-42"})
    assert (verify.status_code, verify.text) == (200, "echo-42")

    click = official_account_message("<MsgType>event</MsgType><Event>CLICK</Event><EventKey>V1001_INSTALL</EventKey>")
    answer = post(c, path, plain_query(), click)
    reply = xmltodict.parse(answer.data)["xml"]
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("openid-1", "gh_acme", "text")
    again = xmltodict.parse(post(c, path, plain_query(), click).data)["xml"]
    assert again.pop("CreateTime") >= reply.pop("CreateTime")  # the reply's own time, in seconds
    assert again == reply  # a retry: same ticket, same reply

    # No keyword routes it, and the sender has the ticket the click opened: it goes to that ticket's conversation.
    text = official_account_message("<MsgType>text</MsgType><Content>投诉：师傅没来</Content><MsgId>77</MsgId>")
    followed = xmltodict.parse(post(c, path, plain_query(), text).data)["xml"]
    assert "沟通记录" in followed["Content"]
    subscribe = official_account_message("<MsgType>event</MsgType><Event>subscribe</Event>")
    welcome = xmltodict.parse(post(c, path, plain_query(), subscribe).data)["xml"]
    assert (welcome["ToUserName"], welcome["MsgType"]) == ("openid-1", "text")  # welcomed, no ticket
    wrong_account = official_account_message(
        "<MsgType>text</MsgType><Content>x</Content><MsgId>78</MsgId>", to="gh_other"
    )
    assert post(c, path, plain_query(), wrong_account).status_code == 403

    click_envelope, text_envelope = published(settings)
    assert (
        click_envelope.data["template"] == "install" and click_envelope.data["description"] == "菜单「V1001_INSTALL」"
    )
    assert ticket_number(click_envelope.subject) in reply["Content"]
    assert (text_envelope.type, text_envelope.subject) == ("ticket.message_received", click_envelope.subject)
    assert (
        text_envelope.data["text"] == "投诉：师傅没来" and ticket_number(click_envelope.subject) in followed["Content"]
    )


def test_td_or_退订_opts_the_follower_out_once_and_raises_no_ticket(settings):
    open_tenant(settings, "shop")
    replicate(settings, bootstrap)
    intake = bootstrap.application(settings)
    intake.configure(
        "shop",
        lambda s: s.configure_official_account(
            "wxshop", "mptoken1", None, "plain", "gh_acme", seal=intake.secrets.seal
        ),
    )
    c, path = client(intake), "/v1/tenants/shop/mp/callback"
    td = official_account_message("<MsgType>text</MsgType><Content> td </Content><MsgId>90</MsgId>")
    replies = [xmltodict.parse(post(c, path, plain_query(), td).data)["xml"]["Content"] for _ in range(2)]  # a retry
    assert replies[0] == replies[1] and "退订" in replies[0]
    chinese = official_account_message("<MsgType>text</MsgType><Content>退订</Content><MsgId>91</MsgId>")
    assert post(c, path, plain_query(), chinese).status_code == 200

    envelopes = published(settings)
    assert [e.type for e in envelopes] == ["customer.opted_out", "customer.opted_out"]  # no ticket.created
    for envelope in envelopes:
        validate_envelope(envelope)
    assert envelopes[0].data | {"customer_id": None} == {
        "customer_id": None,
        "channel": "mp",
        "identity": "openid",
        "value": "openid-1",
        "message_id": "90",
    }
    assert envelopes[0].subject == UUID(envelopes[0].data["customer_id"]) == envelopes[1].subject


# --- refused: 4xx, the project's error body, nothing recorded ------------------------------


def forged_signature():
    query, body = sealed(wecom_message())
    return {**query, "msg_signature": "0" * 40}, body


def tampered_ciphertext():
    query, body = sealed(wecom_message())
    return query, body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA")


def wrong_corp():  # a message for another corp, signed with the same Token
    crypto = WeComCrypto(WECOM["token"], WECOM["aes_key"], "ww-another-corp")
    return sealed(wecom_message(corp_id="ww-another-corp"), crypto)


def stale():
    query, body = sealed(wecom_message())
    return {**query, "timestamp": str(int(time.time()) - 301)}, body


@pytest.mark.parametrize(
    "request_, status, code",
    [
        (forged_signature, 403, "unverified"),
        (tampered_ciphertext, 403, "unverified"),
        (wrong_corp, 403, "unverified"),
        (lambda: sealed(wecom_message(agent_id="1000099")), 403, "unverified"),
        (stale, 403, "stale_timestamp"),
        (lambda: ({"msg_signature": "x", "nonce": "1"}, "<xml/>"), 400, "missing_parameter"),
        (lambda: (sealed(wecom_message())[0], "<xml><Encrypt>"), 400, "malformed_xml"),
        (
            lambda: (
                sealed(wecom_message())[0],
                '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
            ),
            400,
            "malformed_xml",
        ),
        (lambda: (sealed(wecom_message())[0], "<xml><Encrypt>" + "A" * 70_000 + "</Encrypt></xml>"), 413, None),
    ],
)
def test_forged_stale_misaddressed_and_malformed_requests_are_refused(intake, settings, request_, status, code):
    query, body = request_()
    answer = post(client(intake), WECOM_PATH, query, body)
    assert answer.status_code == status and answer.json["error"]["code"] == (code or answer.json["error"]["code"])
    assert published(settings) == []


def test_garbage_never_gets_a_5xx_and_records_nothing(intake, settings):
    rng, c = random.Random(4), client(intake)
    query, body = sealed(wecom_message())
    pieces = [
        body,
        "<xml>",
        "</xml>",
        "<Encrypt>",
        "]]>",
        "<![CDATA[",
        "&amp;",
        "&#0;",
        "\x00",
        "报修",
        "<!DOCTYPE",
        "<MsgType>text</MsgType>",
        "=",
        "%",
        "\ud800",
    ]
    for _ in range(150):
        junk = "".join(rng.choice(pieces) for _ in range(rng.randrange(6)))
        raw = junk.encode("utf-8", "surrogatepass") if rng.random() < 0.8 else rng.randbytes(rng.randrange(300))
        q = {
            k: v
            if rng.random() < 0.7
            else rng.choice(["", "x" * 70, "-1", "１２３", junk[:50].encode("utf-8", "replace").decode()])
            for k, v in {**query, "echostr": "x", "signature": "y", "encrypt_type": "aes"}.items()
        }
        for path in (WECOM_PATH, MP_PATH, "/v1/tenants/nobody/wecom/callback"):
            assert post(c, path, q, raw).status_code < 500
            assert c.get(path, query_string=q).status_code < 500
    assert published(settings) == []


def test_wrong_content_types_are_refused(intake, settings):
    query, body = sealed(wecom_message())
    c = client(intake)
    answer = post(c, WECOM_PATH, query, body, content_type="application/json")
    assert (answer.status_code, answer.json["error"]["code"]) == (415, "unsupported_media_type")
    assert post(c, WECOM_PATH, query, body, content_type="application/xml").status_code == 200


def test_an_unknown_tenant_looks_exactly_like_a_bad_signature(intake, settings):
    c = client(intake)
    query, body = sealed(wecom_message())
    unknown = post(c, "/v1/tenants/nobody/wecom/callback", query, body)
    forged = post(c, WECOM_PATH, {**query, "msg_signature": "0" * 40}, body)
    no_mp = post(c, "/v1/tenants/old/mp/callback", plain_query(), official_account_message("<MsgType>text</MsgType>"))
    verify = c.get("/v1/tenants/nobody/wecom/callback", query_string={**query, "echostr": "x"})
    for answer in (unknown, no_mp, verify):
        assert (answer.status_code, answer.data) == (forged.status_code, forged.data) == (403, forged.data)
    # No tenant can have an id of another shape (shared/tenants.py): like every route, a 404 before anything.
    bad_shape = post(c, "/v1/tenants/NO!/wecom/callback", query, body)
    assert (bad_shape.status_code, bad_shape.json["error"]["code"]) == (404, "not_found")
    assert published(settings) == []


def test_settings_changed_by_an_operator_apply_to_the_next_request(intake, settings):
    c = client(intake)
    query, body = sealed(wecom_message("我要安装", msg_id="500"))
    assert post(c, WECOM_PATH, query, body).status_code == 200  # cached now
    other = bootstrap.application(settings)  # another process, e.g. `scrm intake tenant route`
    other.configure("acme", lambda s: s.set_route("wecom", "keyword", "安装", "install"))
    assert post(c, WECOM_PATH, *sealed(wecom_message("我要安装", msg_id="501"))).status_code == 200
    other.configure("acme", lambda s: s.configure_wecom(**{**WECOM, "token": "rotated1"}, seal=other.secrets.seal))
    assert post(c, WECOM_PATH, *sealed(wecom_message("我要安装", msg_id="502"))).status_code == 403
    assert [e.data["template"] for e in published(settings)] == ["default", "install"]


def test_the_callbacks_are_documented(intake):
    paths = client(intake).get("/openapi.json").json["paths"]
    for channel in ("wecom", "mp"):
        operations = paths[f"/v1/tenants/{{tenant}}/{channel}/callback"]
        assert set(operations) - {"parameters"} == {"get", "post"} and "403" in operations["post"]["responses"]


# --- workflow takes in chat tickets and tickets stored before v2 -------------------------


def test_workflow_opens_a_chat_ticket_and_one_stored_as_v1(intake, settings):
    import orjson
    from eventsourcing.persistence import StoredEvent

    from services.intake.domain import Submission
    from services.workflow import bootstrap as workflow

    assert post(client(intake), WECOM_PATH, *sealed(wecom_message("报修", msg_id="8001"))).status_code == 200
    # A submission recorded before routing existed: no template, no class_version.
    old = Submission(
        tenant="acme",
        channel="h5",
        submission_id="h5-old",
        description="漏水",
        template="x",
        route={"by": "default"},
        customer={"name": "张三", "phone": "13800138000", "address": "上海"},
    )
    stored = intake.mapper.to_stored_event(old.collect_events()[0])
    state = {k: v for k, v in orjson.loads(stored.state).items() if k not in ("template", "route", "class_version")}
    intake.recorder.insert_events([StoredEvent(stored.originator_id, 1, stored.topic, orjson.dumps(state))])
    assert intake.backfill_outbox() == 2  # stored before the outbox: it is written there on upgrade (db init)

    chat, v1 = published(settings)
    assert (v1.schema_version, v1.data["template"]) == (2, "default")
    follower = workflow.follower(settings)
    while follower.run_once():
        pass
    web = workflow.web_app(settings).test_client()
    linked = {"wecom_userid": "zhangsan", "customer_id": chat.data["customer_id"]}  # intake's id for them goes with it
    for envelope, customer in ((chat, linked), (v1, old.customer)):
        ticket = web.get(f"/v1/tenants/acme/tickets/{envelope.subject}", headers=staff("cs-1")).json
        assert (ticket["node"], ticket["customer"], ticket["channel"]) == ("处理中", customer, envelope.data["channel"])
    assert UUID(str(chat.subject)) == ticket_id("acme", "wecom", "8001")
