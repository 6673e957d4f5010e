"""The customer directory against a real store (SQLite and PostgreSQL): first contacts, a second
channel attaching to the same customer, racing first contacts, images and locations going to
the open ticket (as workflow reports it), the chat sidebar, opportunities and API keys."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from shared.contracts import ticket_number, validate_envelope

from services.intake import bootstrap
from services.intake.api import create_app
from services.intake.customers import Customer, IdentityClaim
from services.intake.domain import ticket_id
from services.intake.regions import RegionNames
from services.workflow import bootstrap as workflow
from tests.integration.test_intake_channels import (
    WECOM,
    WECOM_PATH,
    intake,
    opened,
    post,
    published,
    sealed,
    secret_keys,
    wecom_message,
)
from shared.identity.apikeys import key_id_of
from services.workflow.tenancy import Tenancy
from tests.support.identity import KEYS, bearer, identity_of, issue_key, open_tenant, replicate, staff
from tests.support.staffing import hire

STAFF = staff("technician-1")


@pytest.fixture
def key(settings, intake):  # the fixture imported above
    issued = issue_key(settings, "write")
    replicate(settings, bootstrap)
    return issued


@pytest.fixture
def api(intake, key):
    intake.administer(RegionNames, "acme", lambda names: names.add("南山", "广东/深圳/南山"))
    return create_app(intake, identity_of(intake)).test_client()


@pytest.fixture
def auth(key):
    return lambda credential=key: bearer(credential)


def recorded(intake, event_class) -> int:
    return len(intake.recorder.select_notifications(start=1, limit=10_000, topics=[get_topic(event_class)]))


def drain(*followers) -> None:
    while sum(f.run_once() for f in followers):
        pass


def send(client, plain: str) -> str:
    """Post a WeCom message; the text of the passive reply ("" for none)."""
    answer = post(client, WECOM_PATH, *sealed(plain))
    assert answer.status_code == 200, answer.text
    return (
        opened(answer.data, WeComCrypto(WECOM["token"], WECOM["aes_key"], WECOM["corp_id"]))["Content"]
        if answer.data
        else ""
    )


def image(msg_id: str, media_id: str = "media-1") -> str:
    return wecom_message(
        msg_type="image",
        msg_id=msg_id,
        content="",
        extra=f"<PicUrl>http://127.0.0.1/{media_id}.jpg</PicUrl><MediaId>{media_id}</MediaId>",
    )


def location(msg_id: str, label: str = "广东省深圳市南山区科技园") -> str:
    return wecom_message(
        msg_type="location",
        msg_id=msg_id,
        content="",
        extra=f"<Location_X>22.54</Location_X><Location_Y>113.95</Location_Y><Label>{label}</Label>",
    )


# --- who the customer is ------------------------------------------------------------------


def test_a_first_contact_creates_the_customer_and_the_ticket_is_linked_to_it(intake, api, settings, auth):
    send(api, wecom_message("空调报修", msg_id="7001", sender="zhangsan"))
    customer = intake.customers.by_identity("acme", "wecom_userid", "zhangsan")
    [created] = published(settings)
    assert UUID(created.data["customer_id"]) == customer.id and validate_envelope(created) is created

    drain(bootstrap.follower(settings))  # the customer records the ticket
    view = api.get(f"/v1/tenants/acme/customers/{customer.id}", headers=auth()).json
    assert view["identities"] == {"wecom_userid": ["zhangsan"]} and view["first_channel"] == "wecom"
    assert [(t["ticket_id"], t["status"]) for t in view["tickets"]] == [(str(created.subject), "received")]


def test_a_second_channel_attaches_to_the_same_customer_by_unionid(intake, api, auth):
    first = api.post(
        "/v1/tenants/acme/customers",
        headers=auth(),
        json={"wecom_external_userid": "wm-1", "unionid": "u-1", "name": "王五"},
    )
    assert first.status_code == 201
    accepted = intake.submit("acme", "mp", "m-1", {"openid": "o-1", "unionid": "u-1"}, "热水器不热")
    assert intake.get(accepted.ticket_id, "acme").customer_id == UUID(first.json["customer_id"])
    again = api.get("/v1/tenants/acme/customers", query_string={"kind": "openid", "value": "o-1"}, headers=auth())
    assert again.json["customer_id"] == first.json["customer_id"]
    assert again.json["identities"] == {"wecom_external_userid": ["wm-1"], "unionid": ["u-1"], "openid": ["o-1"]}
    assert api.post("/v1/tenants/acme/customers", headers=auth(), json={"unionid": "u-1"}).status_code == 200


def test_a_second_channel_attaches_by_phone_and_the_region_comes_from_the_address(intake, api, settings, auth):
    h5 = api.post(
        "/v1/tenants/acme/h5/submissions",
        headers=auth(),
        json={
            "submission_id": "h-1",
            "description": "洗衣机漏水",
            "customer": {"name": "赵六", "phone": "136 0000 0000", "address": "广东省深圳市南山区粤海街道"},
        },
    )
    sidebar = api.post(
        "/v1/tenants/acme/sidebar/tickets",
        headers=auth(),
        json={
            "request_id": "r-1",
            "external_userid": "wm-9",
            "description": "再来一单",
            "staff": "lisi",
            "customer": {"phone": "13600000000"},
        },
    )
    first = intake.get(UUID(h5.json["ticket_id"]), "acme")
    assert sidebar.json["customer_id"] == str(first.customer_id)
    assert first.region == "广东/深圳/南山"  # the tenant's own place name is deeper than the built-in city
    by_sidebar = published(settings)[1]
    assert by_sidebar.data["region"] == "广东/深圳/南山"  # no address given: the customer's
    assert intake.customers.get("acme", first.customer_id).identities["wecom_external_userid"] == ["wm-9"]


def test_a_submission_never_overwrites_a_known_customers_profile(intake, api, settings, auth):
    """Issue 11: anyone who knows a customer's phone could rename them and move their address."""

    def h5(submission_id: str, name: str, address: str):
        return api.post(
            "/v1/tenants/acme/h5/submissions",
            headers=auth(),
            json={
                "submission_id": submission_id,
                "description": "洗衣机漏水",
                "customer": {"name": name, "phone": "13600000000", "address": address},
            },
        )

    first = h5("h-1", "赵六", "广东省深圳市南山区粤海街道")
    second = h5("h-2", "冒名者", "浙江省杭州市西湖区")
    drain(bootstrap.follower(settings))
    customer = intake.customers.by_identity("acme", "phone", "13600000000")
    assert customer.profile == {"name": "赵六", "address": "广东省深圳市南山区粤海街道"}
    # What the second submission said stays on its ticket, and is proposed to staff, never applied.
    assert intake.get(UUID(second.json["ticket_id"]), "acme").customer["name"] == "冒名者"
    view = api.get(f"/v1/tenants/acme/customers/{customer.id}", headers=auth()).json
    assert view["proposed"] == [
        {
            "ticket_id": second.json["ticket_id"],
            "channel": "h5",
            "profile": {"name": "冒名者", "address": "浙江省杭州市西湖区"},
        }
    ]
    assert first.json["ticket_id"] in [t["ticket_id"] for t in view["tickets"]]
    # Staff accept it by registering the customer with those details: then it is no longer pending.
    accepted = api.post(
        "/v1/tenants/acme/customers",
        headers=auth(),
        json={"phone": "13600000000", "name": "冒名者", "address": "浙江省杭州市西湖区"},
    )
    assert accepted.json["profile"]["name"] == "冒名者" and accepted.json["proposed"] == []


def test_linking_an_openid_to_another_customers_unionid_merges_the_two(intake, api, settings, auth):
    """Issue 14 item 7: a follower registered by their openid, then named with a unionid another customer
    holds, was answered 200 with the unionid's customer and the openid silently dropped."""
    follower = intake.customers.register("acme", "mp", {"openid": "o-1"}).customer_id
    other = bootstrap.application(settings)  # another web process, which learns whose the openid is
    assert other.customers.by_identity("acme", "openid", "o-1").id == follower
    their_ticket = intake.submit("acme", "mp", "m-1", {"openid": "o-1"}, "热水器不热").ticket_id
    known = api.post(
        "/v1/tenants/acme/customers",
        headers=auth(),
        json={"wecom_external_userid": "wm-1", "unionid": "u-1", "name": "王五"},
    ).json["customer_id"]
    drain(bootstrap.follower(settings))  # the follower's ticket is linked to them

    linked = api.post("/v1/tenants/acme/customers", headers=auth(), json={"openid": "o-1", "unionid": "u-1"})
    assert linked.status_code == 200 and linked.json["customer_id"] == known
    assert linked.json["identities"] == {"wecom_external_userid": ["wm-1"], "unionid": ["u-1"], "openid": ["o-1"]}
    assert linked.json["merged_from"] == [str(follower)] and linked.json["profile"] == {"name": "王五"}
    assert [t["ticket_id"] for t in linked.json["tickets"]] == [str(their_ticket)]  # re-linked
    assert recorded(intake, Customer.Absorbed) == 1 and recorded(intake, Customer.MergedInto) == 1
    for kind, value in (("openid", "o-1"), ("unionid", "u-1")):
        found = api.get("/v1/tenants/acme/customers", query_string={"kind": kind, "value": value}, headers=auth())
        assert found.json["customer_id"] == known
    assert api.get(f"/v1/tenants/acme/customers/{follower}", headers=auth()).json["customer_id"] == known
    # The other process, which learned the openid's owner before the merge, reaches the one customer too.
    assert other.customers.by_identity("acme", "openid", "o-1").id == UUID(known)
    later = other.submit("acme", "mp", "m-2", {"openid": "o-1"}, "又坏了")
    assert intake.get(later.ticket_id, "acme").customer_id == UUID(known)
    drain(bootstrap.follower(settings))
    again = api.post("/v1/tenants/acme/customers", headers=auth(), json={"openid": "o-1", "unionid": "u-1"})
    assert again.status_code == 200 and recorded(intake, Customer.Absorbed) == 1  # merged once
    assert [t["ticket_id"] for t in again.json["tickets"]] == [str(their_ticket), str(later.ticket_id)]


def test_an_operators_vip_flag_goes_with_every_ticket_the_customer_raises_on_any_channel(intake, api, settings, auth):
    """Issue 14: workflow's priority reads the customer's VIP flag from ticket.created, but intake's
    customers had no flags and no channel carried any."""
    known = api.post(
        "/v1/tenants/acme/customers",
        headers=auth(),
        json={"wecom_userid": "zhangsan", "openid": "o-1", "phone": "13800138000", "wecom_external_userid": "wm-1"},
    ).json["customer_id"]
    nobody = api.post("/v1/tenants/acme/customers", headers=auth(), json={"phone": "13900139000"}).json["customer_id"]
    flagged = api.put(
        f"/v1/tenants/acme/customers/{known}/flags", headers=auth(), json={"flags": ["vip"], "by": "lisi"}
    )
    assert flagged.status_code == 200 and flagged.json["flags"] == ["vip"] and flagged.json["customer_id"] == known
    assert api.get(f"/v1/tenants/acme/customers/{nobody}", headers=auth()).json["flags"] == []
    for bad in (
        {"flags": ["VIP!"], "by": "lisi"},
        {"flags": ["vip"]},
        {"flags": [f"f{n}" for n in range(21)], "by": "x"},
    ):
        answer = api.put(f"/v1/tenants/acme/customers/{known}/flags", headers=auth(), json=bad)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "validation_failed", bad

    send(api, wecom_message("空调报修", msg_id="7101", sender="zhangsan"))  # WeCom
    intake.submit("acme", "mp", "m-1", {"openid": "o-1"}, "热水器不热")  # the official account's path
    h5 = {"name": "张三", "phone": "13800138000", "address": "上海"}
    body = {"submission_id": "h5-1", "customer": h5, "description": "漏水"}
    assert api.post("/v1/tenants/acme/h5/submissions", headers=auth(), json=body).status_code == 201  # H5
    body = {"submission_id": "h5-2", "customer": {"phone": "13900139000", "flags": ["vip"]}, "description": "VIP"}
    refused = api.post("/v1/tenants/acme/h5/submissions", headers=auth(), json=body)  # nobody flags themselves
    assert refused.status_code == 400 and "flags" in str(refused.json["error"]["details"])
    sidebar = {"request_id": "r-1", "external_userid": "wm-1", "description": "空调报修", "staff": "lisi"}
    assert api.post("/v1/tenants/acme/sidebar/tickets", headers=auth(), json=sidebar).status_code == 201  # the API

    created = [validate_envelope(e) for e in published(settings) if e.type == "ticket.created"]
    flags = [(e.data["channel"], e.data["customer"].get("flags")) for e in created]
    assert flags == [("wecom", ["vip"]), ("mp", ["vip"]), ("h5", ["vip"]), ("wecom_sidebar", ["vip"])]


def test_a_merge_is_published_and_the_flags_go_with_it(intake, api, settings, auth):
    """Issue 14: linking merged two customers inside intake, but no public event said so (notify and
    workflow kept the merged-away id); a VIP merged into another customer stays a VIP."""
    follower = intake.customers.register("acme", "mp", {"openid": "o-1"}).customer_id
    stale = bootstrap.application(settings)  # a process that learned the openid's owner before the merge
    assert stale.customers.by_identity("acme", "openid", "o-1").id == follower
    flagged = api.put(
        f"/v1/tenants/acme/customers/{follower}/flags", headers=auth(), json={"flags": ["vip"], "by": "x"}
    )
    assert flagged.status_code == 200
    known = api.post(
        "/v1/tenants/acme/customers", headers=auth(), json={"wecom_external_userid": "wm-1", "unionid": "u-1"}
    ).json["customer_id"]
    linked = api.post("/v1/tenants/acme/customers", headers=auth(), json={"openid": "o-1", "unionid": "u-1"})
    assert linked.json["customer_id"] == known and linked.json["flags"] == ["vip"]
    again = api.post("/v1/tenants/acme/customers", headers=auth(), json={"openid": "o-1", "unionid": "u-1"})
    assert again.status_code == 200

    [merged] = [validate_envelope(e) for e in published(settings) if e.type == "customer.merged"]  # once
    assert str(merged.subject) == known and merged.data == {
        "customer_id": known,
        "merged_customer_id": str(follower),
        "identities": {"unionid": ["u-1"], "wecom_external_userid": ["wm-1"], "openid": ["o-1"]},
        "by": "api",
    }
    # The stale process still names the follower; the flags that hold are the survivor's.
    api.put(
        f"/v1/tenants/acme/customers/{known}/flags", headers=auth(), json={"flags": ["vip", "key_account"], "by": "x"}
    )
    later = stale.submit("acme", "mp", "m-9", {"openid": "o-1"}, "又坏了")
    [ticket] = [e for e in published(settings) if e.subject == later.ticket_id]
    assert ticket.data["customer"]["flags"] == ["key_account", "vip"]


def test_concurrent_first_contacts_of_one_person_make_one_customer(intake):
    def first_contact(n: int):
        return intake.submit("acme", "h5", f"race-{n}", {"phone": "13900000000", "name": f"n{n}"}, "报修")

    with ThreadPoolExecutor(8) as pool:
        accepted = list(pool.map(first_contact, range(16)))
    assert all(a.created for a in accepted)
    assert len({intake.get(a.ticket_id, "acme").customer_id for a in accepted}) == 1
    assert recorded(intake, Customer.Registered) == 1 and recorded(intake, IdentityClaim.Claimed) == 1


# --- what they send about an open ticket ------------------------------------------------------


def test_images_and_locations_go_to_the_open_ticket_and_not_to_a_closed_one(intake, api, settings, auth):
    hire(settings, "acme", "technician-1")  # the default template's pool
    staff = workflow.web_app(settings).test_client()
    followers = [bootstrap.follower(settings), workflow.follower(settings)]
    send(api, wecom_message("空调报修", msg_id="7001"))
    ticket = ticket_id("acme", "wecom", "7001")
    drain(*followers)  # workflow opened it and intake heard so

    for _ in range(2):  # WeCom retries: the same picture once
        assert ticket_number(ticket) in send(api, image("8001"))
    assert ticket_number(ticket) in send(api, location("8002"))
    attached = [e for e in published(settings) if e.type != "ticket.created"]
    assert [(e.type, e.subject) for e in attached] == [
        ("ticket.attachment_added", ticket),
        ("ticket.location_reported", ticket),
    ]
    assert all(validate_envelope(e) is e for e in attached)
    assert attached[0].data["media_id"] == "media-1"

    assert staff.post(f"/v1/tenants/acme/tickets/{ticket}/close", headers=STAFF).status_code == 200
    drain(*followers)
    assert "没有处理中的工单" in send(api, image("8003", media_id="media-3"))  # kept on the customer
    assert len(published(settings)) == 3

    seen = api.get(f"/v1/tenants/acme/tickets/{ticket}/customer", headers=auth()).json
    assert seen["ticket"]["status"] == "closed"
    assert [a["media_id"] for a in seen["ticket"]["attachments"]] == ["media-1"]
    assert seen["ticket"]["location"]["label"] == "广东省深圳市南山区科技园"
    assert [k["media_id"] for k in seen["customer"]["kept"]] == ["media-3"]


def test_an_image_sent_right_after_the_text_that_opened_a_ticket_goes_to_that_ticket(intake, api, settings):
    """Issue 14 item 8: the sender was given a ticket number, then told they had no open ticket."""
    assert ticket_number(ticket_id("acme", "wecom", "7201")) in send(api, wecom_message("空调报修", msg_id="7201"))
    assert ticket_number(ticket_id("acme", "wecom", "7201")) in send(api, image("8201"))  # no worker ran between
    attached = published(settings)[-1]
    assert (attached.type, attached.subject) == ("ticket.attachment_added", ticket_id("acme", "wecom", "7201"))
    drain(bootstrap.follower(settings))  # the worker links the same ticket again: nothing changes
    customer = intake.customers.by_identity("acme", "wecom_userid", "zhangsan")
    assert list(customer.tickets) == [ticket_id("acme", "wecom", "7201")]


def test_follow_up_text_goes_to_the_open_tickets_conversation_and_its_timeline(intake, api, settings):
    """Issue 14 item 12: what a customer writes while their ticket is open is kept beside it."""
    hire(settings, "acme", "technician-1")  # the default template's pool
    staff = workflow.web_app(settings).test_client()
    followers = [bootstrap.follower(settings), workflow.follower(settings)]
    ticket = ticket_id("acme", "wecom", "7301")
    assert ticket_number(ticket) in send(api, wecom_message("空调报修", msg_id="7301"))
    for _ in range(2):  # WeCom retries: the same message once
        answer = send(api, wecom_message("师傅明天下午几点到？", msg_id="7302"))
        assert ticket_number(ticket) in answer and "沟通记录" in answer
    assert ticket_number(ticket) in send(api, wecom_message("空调报修", msg_id="7301"))  # a retry of the first
    assert ticket_number(ticket) in send(api, image("7303"))
    said = [e for e in published(settings) if e.type == "ticket.message_received"]
    assert [(e.subject, e.data["text"]) for e in said] == [(ticket, "师傅明天下午几点到？")]
    assert validate_envelope(said[0]) is said[0] and len(published(settings)) == 3  # no second ticket

    drain(*followers)
    timeline = staff.get(f"/v1/tenants/acme/tickets/{ticket}/timeline", headers=STAFF).json["timeline"]
    sent = [(e["data"]["kind"], e["data"]["content"], e["actor"]) for e in timeline if e["type"] == "CustomerSent"]
    assert sent == [
        ("text", {"text": "师傅明天下午几点到？"}, "customer"),
        ("image", {"media_id": "media-1", "url": "http://127.0.0.1/media-1.jpg"}, "customer"),
    ]
    assert timeline[0]["type"] == "Opened"

    assert staff.post(f"/v1/tenants/acme/tickets/{ticket}/close", headers=STAFF).status_code == 200
    drain(*followers)
    send(api, wecom_message("又不制冷了", msg_id="7304"))  # no ticket open: the text raises one
    assert published(settings)[-1].type == "ticket.created"
    assert published(settings)[-1].subject == ticket_id("acme", "wecom", "7304")


def test_with_no_ticket_a_location_is_kept_and_gives_the_next_ticket_its_region(intake, api, settings):
    assert "没有处理中的工单" in send(api, location("8101", label="浙江省杭州市西湖区"))
    send(api, wecom_message("热水器报修", msg_id="7101"))
    assert published(settings)[-1].data["region"] == "浙江/杭州"


# --- the chat sidebar and opportunities ----------------------------------------------------------


def test_the_sidebar_raises_a_ticket_for_an_external_contact_once(intake, api, settings, auth):
    body = {"request_id": "r-7", "external_userid": "wm-7", "description": "空调报修：不制冷", "staff": "lisi"}
    first = api.post("/v1/tenants/acme/sidebar/tickets", headers=auth(), json=body)
    again = api.post("/v1/tenants/acme/sidebar/tickets", headers=auth(), json=body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json == {**again.json, "created": True}
    customer = intake.customers.by_identity("acme", "wecom_external_userid", "wm-7")
    assert first.json["customer_id"] == str(customer.id)
    [created] = published(settings)
    assert (created.data["channel"], created.data["template"]) == ("wecom_sidebar", "repair")  # the WeCom keyword
    bad = api.post("/v1/tenants/acme/sidebar/tickets", headers=auth(), json={"request_id": "r-8"})
    assert bad.status_code == 400
    assert {"external_userid", "description", "staff"} <= set(bad.json["error"]["details"]["fields"])


def test_opportunities_are_opened_moved_won_and_lost(intake, api, settings, auth):
    ticket = UUID(
        api.post(
            "/v1/tenants/acme/sidebar/tickets",
            headers=auth(),
            json={"request_id": "r-1", "external_userid": "wm-1", "description": "安装", "staff": "lisi"},
        ).json["ticket_id"]
    )
    customer = intake.get(ticket, "acme").customer_id
    base = f"/v1/tenants/acme/customers/{customer}/opportunities"
    made = api.post(base, headers=auth(), json={"title": "年度保养合同", "amount": "1200.50", "by": "lisi"})
    assert made.status_code == 201 and (made.json["stage"], made.json["amount"]) == ("lead", "1200.50")
    other = api.post(base, headers=auth(), json={"title": "换新机", "by": "lisi"}).json["id"]
    one = f"{base}/{made.json['id']}"
    assert api.patch(one, headers=auth(), json={"stage": "proposal", "by": "lisi"}).json["stage"] == "proposal"
    assert api.post(f"{one}/win", headers=auth(), json={"by": "lisi"}).json["stage"] == "won"
    late = api.post(f"{one}/lose", headers=auth(), json={"reason": "太贵", "by": "lisi"})
    assert late.status_code == 409 and late.json["error"]["code"] == "conflict"
    assert api.post(f"{base}/nope/win", headers=auth(), json={"by": "lisi"}).status_code == 404
    assert api.patch(one, headers=auth(), json={"stage": "won", "by": "lisi"}).status_code == 400

    drain(bootstrap.follower(settings))
    seen = api.get(f"/v1/tenants/acme/tickets/{ticket}/customer", headers=auth()).json
    assert [o["id"] for o in seen["open_opportunities"]] == [other] and seen["past_tickets"] == []


def test_a_look_up_names_what_is_wrong_with_its_query(api, auth):
    for query, wrong in (
        ("kind=fax&value=1", {"kind"}),
        ("kind=phone", {"value"}),
        ("", {"kind", "value"}),
        (f"kind=phone&value={'1' * 501}", {"value"}),
    ):
        answer = api.get(f"/v1/tenants/acme/customers?{query}", headers=auth())
        assert answer.status_code == 400, query
        assert (
            answer.json["error"]["code"] == "validation_failed"
            and set(answer.json["error"]["details"]["fields"]) == wrong
        )
    assert api.get("/v1/tenants/acme/customers?kind=phone&value=13900000000", headers=auth()).status_code == 404


# --- API keys -------------------------------------------------------------------------------


def test_the_rest_api_needs_a_current_key_of_the_tenant(intake, api, settings, auth, key):
    open_tenant(settings, "other")
    theirs = issue_key(settings, "admin", tenant="other")
    old = issue_key(settings, "write")
    replicate(settings, bootstrap)
    workflow_app = workflow.application(settings)
    tenancy = Tenancy(workflow_app, KEYS)
    tenancy.revoke_key("acme", key_id_of(old), "tests")
    replicate(settings, bootstrap)
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    refused = [
        api.get("/v1/tenants/acme/customers?kind=phone&value=1"),  # no key
        api.get("/v1/tenants/acme/customers?kind=phone&value=1", headers=auth(wrong)),
        api.get("/v1/tenants/acme/customers?kind=phone&value=1", headers=auth(old)),  # revoked
        api.get("/v1/tenants/acme/customers?kind=phone&value=1", headers=auth(theirs)),  # other tenant
        api.get("/v1/tenants/nobody/customers?kind=phone&value=1", headers=auth()),  # no such tenant
        api.get("/v1/tenants/acme/customers?kind=phone&value=1", headers={"Authorization": f"Basic {key}"}),
    ]
    assert {(r.status_code, r.json["error"]["code"], r.headers["WWW-Authenticate"]) for r in refused} == {
        (401, "unauthenticated", 'Bearer realm="scrm"')
    }
    assert all("customers" not in r.text for r in refused)
    assert len({r.data for r in refused[1:5]}) == 1  # nothing tells a missing tenant from a wrong key
    # An id no tenant can have (shared/tenants.py) is not there, as on every route of every service.
    assert api.get("/v1/tenants/NO!/customers?kind=phone&value=1", headers=auth()).status_code == 404
    assert api.get("/v1/tenants/acme/customers?kind=phone&value=1", headers=auth()).status_code == 404
    tenancy.revoke_key("acme", key_id_of(key), "tests")
    replicate(settings, bootstrap)
    assert api.get("/v1/tenants/acme/customers?kind=phone&value=1", headers=auth()).status_code == 401
