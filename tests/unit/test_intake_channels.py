"""The callbacks' shared checks without a store: signatures, replay window, XML, messages."""

import pytest

from services.intake.channels import xml
from services.intake.channels.inbound import Message
from services.intake.channels.security import MissingParameter, Query, StaleTimestamp, Unverified, check_signature


def test_a_signature_is_sha1_of_the_sorted_parts_and_anything_else_is_unverified():
    # Tencent's official-account sample: Token spamtest, its timestamp and nonce.
    check_signature("spamtest", "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a", "1409735669", "1320562132")
    for forged in ("16120ec1b8dbb870f510d87ce6bc2463eae6ca1b", "", "x" * 40):
        with pytest.raises(Unverified):
            check_signature("spamtest", forged, "1409735669", "1320562132")


@pytest.mark.parametrize(
    "args, error",
    [
        ({"nonce": "1"}, MissingParameter),
        ({"timestamp": "1000"}, MissingParameter),
        ({"timestamp": "abc", "nonce": "1"}, StaleTimestamp),
        ({"timestamp": "²", "nonce": "1"}, StaleTimestamp),
        ({"timestamp": "１０００", "nonce": "1"}, StaleTimestamp),
        ({"timestamp": "699", "nonce": "1"}, StaleTimestamp),  # 301 s old
        ({"timestamp": "1301", "nonce": "1"}, StaleTimestamp),  # 301 s ahead
    ],
)
def test_a_query_needs_a_fresh_timestamp_and_a_nonce(args, error):
    with pytest.raises(error):
        Query(args, now=1000, replay_window=300)
    assert Query({"timestamp": "700", "nonce": "1"}, now=1000, replay_window=300).get("echostr") == ""


@pytest.mark.parametrize(
    "raw",
    [
        b"not xml",
        b"<xml><a>unclosed</xml>",
        b"<other><a>1</a></other>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>',
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><a>&b;</a></xml>',
        b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml><a>1</a></xml>',
    ],
)
def test_malformed_xml_dtds_and_entities_are_refused(raw):
    with pytest.raises(xml.MalformedXml):
        xml.parse(raw)


def test_callback_xml_is_read_flat_and_written_escaped():
    fields = xml.parse("<xml><ToUserName><![CDATA[ww1]]></ToUserName><Content> 报修 </Content><A><B>x</B></A></xml>")
    assert fields == {"ToUserName": "ww1", "Content": "报修"}
    assert xml.parse(xml.render({"Content": "a]]><b>&"}))["Content"] == "a]]><b>&"


def test_texts_and_menu_clicks_raise_tickets_and_the_rest_is_only_acknowledged():
    base = {"FromUserName": "zhangsan", "ToUserName": "ww1", "CreateTime": "1700000000"}
    text = Message.from_fields({**base, "MsgType": "text", "Content": "空调报修", "MsgId": "42"})
    assert (text.submission_id, text.text, text.description) == ("42", "空调报修", "空调报修")
    click = Message.from_fields({**base, "MsgType": "event", "Event": "CLICK", "EventKey": "REPAIR"})
    assert (click.submission_id, click.menu_key) == ("zhangsan:1700000000", "REPAIR")
    for other in (
        {"MsgType": "image", "PicUrl": "http://x", "MsgId": "43"},
        {"MsgType": "location", "Location_X": "31.2", "MsgId": "44"},
        {"MsgType": "event", "Event": "subscribe"},
        {"MsgType": "text", "Content": "", "MsgId": "45"},
        {"MsgType": "voice", "MsgId": "46"},
    ):
        assert Message.from_fields({**base, **other}) is None
    assert Message.from_fields({"MsgType": "text", "Content": "x", "MsgId": "1"}) is None  # no sender
