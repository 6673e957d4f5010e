"""A customer's picture through the real platform: a WeCom text becomes a ticket, workflow opens
it, intake's worker hears so, and a picture the sender sends next is added to that ticket, as
the REST API (with a key made by `scrm intake api-key create`) shows."""

from uuid import UUID

import pytest
import requests

from shared.contracts import ticket_number
from tests.support.platform import Platform
from deploy.devservers import wait_for
from tests.support.wecom import send, send_text, set_up

pytestmark = pytest.mark.e2e


def test_a_picture_sent_after_a_text_is_added_to_the_ticket_workflow_opened(tmp_path):
    with Platform(tmp_path / "data") as platform:
        set_up(platform)
        key = platform.api_key("acme")
        _, reply = send_text(platform, "空调报修：不制冷", "990101", sender="wangwu")
        ticket_id = platform.look_up("/v1/tenants/acme/channels/wecom/messages/990101").json()["ticket_id"]
        assert ticket_number_of(ticket_id) in reply
        platform.wait_for_ticket(ticket_id)  # workflow opened it

        context = f"{platform.urls['intake']}/v1/tenants/acme/tickets/{ticket_id}/customer"
        assert requests.get(context, timeout=5).status_code == 401  # the REST API needs a key

        def seen(status=None):
            view = requests.get(context, headers={"Authorization": f"Bearer {key}"}, timeout=5).json()
            return view if status is None or view["ticket"]["status"] == status else None

        wait_for(lambda: seen("open"), 30, interval=0.1, message="intake's worker never heard the ticket opened")
        _, reply = send(
            platform,
            "<MsgType>image</MsgType><PicUrl>http://127.0.0.1/p.jpg</PicUrl>"
            "<MediaId>media-e2e</MediaId><MsgId>990102</MsgId>",
            sender="wangwu",
        )
        assert ticket_number_of(ticket_id) in reply
        view = seen()
        assert [a["media_id"] for a in view["ticket"]["attachments"]] == ["media-e2e"]
        assert view["customer"]["identities"] == {"wecom_userid": ["wangwu"]}


def ticket_number_of(ticket_id: str) -> str:
    return ticket_number(UUID(ticket_id))
