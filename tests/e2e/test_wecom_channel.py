"""A WeCom chat message through the real platform: an operator sets the tenant up with
`scrm intake tenant`, WeCom posts an encrypted text (twice: it retries), the sender is told
the ticket number, and workflow opens that one ticket."""

import json
from uuid import UUID

import pytest

from shared.contracts import ticket_number
from tests.support.platform import Platform
from tests.support.wecom import AES_KEY, scrm, send_text, set_up

pytestmark = pytest.mark.e2e


def test_a_wecom_text_becomes_a_ticket_that_workflow_opens(tmp_path):
    with Platform(tmp_path / "data") as platform:  # configured while running: the web app must see it
        set_up(platform)
        shown = scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", "报修", "--template", "repair")
        assert shown["routes"] == [{"channel": "wecom", "keyword": "报修", "template": "repair"}]
        assert AES_KEY not in json.dumps(shown)

        replies = []
        for nonce in ("1001", "1002"):  # the first attempt, and WeCom's retry re-encrypted
            _, reply = send_text(
                platform, "洗衣机报修：不排水", "880001", nonce=nonce
            )  # how fast: bench/wecom_callbacks.py
            replies.append(reply)
        assert replies[0] == replies[1]

        view = platform.look_up("/v1/tenants/acme/channels/wecom/messages/880001").json()
        assert view["template"] == "repair" and view["number"] in replies[0]
        assert view["number"] == ticket_number(UUID(view["ticket_id"]))
        ticket = platform.wait_for_ticket(view["ticket_id"])
        lisi = {"wecom_userid": "lisi", "customer_id": view["customer_id"]}  # intake's id for them goes with it
        assert (ticket["node"], ticket["channel"], ticket["customer"]) == ("处理中", "wecom", lisi)
        assert ticket["description"] == "洗衣机报修：不排水"
