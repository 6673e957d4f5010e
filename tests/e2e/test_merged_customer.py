"""Issue 14's proof on the real platform (`scrm run`, embedded): a WeCom customer's repair waits in the
unassigned queue until a dispatcher claims it, is closed and reopened; a follower of the official account
is linked to that customer (a merge), who is made a VIP; the follower's ticket is vip, every ticket of
the person (WeCom, official account, H5) is listed under the one customer, and notify reaches the merged
person on the WeCom address the follower never gave."""

from uuid import UUID

import pytest
import requests

from deploy.devservers import wait_for
from shared.contracts import ticket_number
from tests.e2e.flow import deliveries
from tests.e2e.test_workflow_templates import ChatDesk
from tests.integration import test_workflow_templates as flows
from tests.integration.test_workflow_templates import at
from tests.support.identity import staff as as_staff
from tests.support.platform import Platform
from tests.support.wecom import scrm, send_to_official_account, set_up, set_up_official_account

pytestmark = pytest.mark.e2e

NO_CUSTOMER_SERVICE = {user: m for user, m in flows.STAFF.items() if "customer_service" not in m.get("roles", ())}


def test_a_follower_linked_to_a_wecom_customer_is_one_vip_customer_on_every_channel(tmp_path):
    with Platform(tmp_path / "data") as platform:
        set_up(platform)
        set_up_official_account(platform)
        for channel in ("wecom", "mp"):
            scrm(platform, "route", "acme", "--channel", channel, "--keyword", "报修", "--template", "repair")
        desk = ChatDesk(platform)
        for user, member in NO_CUSTOMER_SERVICE.items():
            assert desk.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=flows.ADMIN).status_code == 200
        assert desk.http.post("/v1/tenants/acme/templates/examples", headers=flows.ADMIN).status_code == 201

        # WeCom: lisi's repair finds nobody in customer service; a dispatcher claims it from the queue.
        wecom = desk.open("repair")
        assert at(desk.see(wecom)) == {"triage": "queue:customer_service"}
        queue = desk.http.get("/v1/tenants/acme/unassigned", headers=as_staff("d-1")).json
        assert [t["id"] for t in queue["tickets"]] == [wecom.rsplit("/", 1)[1]]
        assert at(desk.act(wecom, "d-1", "claim")) == {"triage": "d-1"}
        desk.act(wecom, "d-1", "advance", values={"warranty": "in_warranty"})
        desk.act(wecom, "technician-1", "advance", values={"finish_photos": ["att-1"]})
        assert desk.act(wecom, "boss", "approve")["status"] == "closed"
        reopened = desk.act(wecom, "lead", "reopen")  # a supervisor, back to the last task
        assert (reopened["status"], at(reopened)) == ("open", {"review": "boss"})

        # The official account: a follower, then linked to lisi by the unionid both are known by.
        key = {"Authorization": f"Bearer {platform.api_key()}"}
        customers = f"{platform.urls['intake']}/v1/tenants/acme/customers"
        send_to_official_account(platform, "<MsgType>event</MsgType><Event>subscribe</Event>", "o-e2e")
        lisi = requests.post(customers, json={"wecom_userid": "lisi", "unionid": "u-e2e"}, headers=key, timeout=10)
        linked = requests.post(customers, json={"openid": "o-e2e", "unionid": "u-e2e"}, headers=key, timeout=10)
        assert linked.status_code == 200 and linked.json()["customer_id"] == lisi.json()["customer_id"]
        assert len(linked.json()["merged_from"]) == 1
        known = linked.json()["customer_id"]
        vip = requests.put(
            f"{customers}/{known}/flags", json={"flags": ["vip"], "by": "admin"}, headers=key, timeout=10
        )
        assert vip.json()["flags"] == ["vip"]
        registered = requests.post(
            customers, json={"unionid": "u-e2e", "phone": "13600000000"}, headers=key, timeout=10
        )
        assert registered.json()["customer_id"] == known  # the phone the H5 form gives

        send_to_official_account(
            platform, "<MsgType>text</MsgType><Content>报修：热水器不热</Content><MsgId>880001</MsgId>", "o-e2e"
        )
        mp = platform.look_up("/v1/tenants/acme/channels/mp/messages/880001").json()["ticket_id"]
        assert platform.wait_for_ticket(mp)["priority"] == "vip"
        h5 = platform.submit("h5-e2e-1").json()["ticket_id"]  # 赵六, 13600000000: the same person
        assert platform.wait_for_ticket(h5)["priority"] == "vip"

        # Every ticket of the person is the one customer's, whichever id it was raised under.
        def listed():
            answer = desk.http.get("/v1/tenants/acme/tickets", headers=as_staff("boss"))
            found = answer.json["tickets"]  # a list may trail the log by a moment
            return found if len(found) == 3 else None

        cards = wait_for(listed, 30, interval=0.2, message="workflow's list never showed the three tickets")
        ours = desk.http.get(f"/v1/tenants/acme/tickets?customer={known}", headers=as_staff("boss")).json
        assert sorted(t["id"] for t in ours["tickets"]) == sorted([wecom.rsplit("/", 1)[1], mp, h5])
        assert {t["customer"]["customer_id"] for t in ours["tickets"]} == {known}
        assert [t["priority"] for t in cards[:2]] == ["vip", "vip"]  # VIP first in every list

        # Notify: the follower's ticket reaches the merged person on lisi's WeCom (no official account set up).
        def told_on_wecom():
            return any(ticket_number(UUID(mp)) in text for text in platform.wecom.texts_to("lisi"))

        wait_for(told_on_wecom, 60, interval=0.2, message="notify never reached the merged customer on WeCom")
        accepted = deliveries(platform, mp, kind="accepted")
        assert {d["recipient"] for d in accepted} == {f"customer:{known}"}
        assert [(d["channel"], d["status"]) for d in accepted] == [("official_account", "fell_back"), ("wecom", "sent")]
