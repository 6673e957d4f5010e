"""The customer directory's pure parts: regions from addresses, API keys, the Customer aggregate
and the policy that follows tickets. No I/O."""

from __future__ import annotations

import copy

from datetime import datetime, timezone, UTC
from uuid import uuid4

import pytest

from shared.contracts import validate_envelope
from shared.envelope import Envelope
from shared.errors import Conflict, Invalid, NotFound

from services.intake.customers import Customer, claim_id, identities_of, profile_of
from services.intake.domain import Submission
from services.intake.flags import CustomerFlags, flags_id, holding
from services.intake.outbox import OUTBOX
from services.intake.policies import customer_policy
from services.intake.regions import RegionNames, locate
from tests.support.policies import Store


@pytest.mark.parametrize(
    "address, region",
    [
        ("广东省深圳市南山区粤海街道", "广东/深圳"),
        ("深圳南山科技园", "广东/深圳"),  # a city alone names its province too
        ("北京市朝阳区建国路", "北京"),
        ("吉林省长春市朝阳区", "吉林/长春"),  # 吉林 is a city as well: the name further on wins
        ("浙江省", "浙江"),
        ("火星基地一号", None),
        ("", None),
    ],
)
def test_the_region_is_the_most_specific_place_an_address_names(address, region):
    assert locate(address) == region


def test_a_tenants_own_place_names_come_on_top_of_the_built_in_ones():
    names = RegionNames(tenant="acme")
    names.add("南山", "广东/深圳/南山")
    assert locate("广东省深圳市南山区", names.names) == "广东/深圳/南山"
    assert locate("广东省深圳市福田区", names.names) == "广东/深圳"
    for bad in ("广东//深圳", "广 东", ""):
        with pytest.raises(Invalid):
            names.add("福田", bad)
    names.remove("南山")
    assert names.names == {}


def test_identities_are_read_in_match_order_and_phones_are_normalised():
    contact = {"openid": "o-1", "phone": "138-0013 8000", "unionid": "u-1", "name": "张三", "address": "上海"}
    assert identities_of(contact) == [("unionid", "u-1"), ("phone", "13800138000"), ("openid", "o-1")]
    assert profile_of(contact) == {"name": "张三", "address": "上海"}
    assert claim_id("acme", "phone", "1") != claim_id("other", "phone", "1") != claim_id("acme", "openid", "1")


def customer_with_ticket():
    customer = Customer.register("acme", "wecom", [("wecom_userid", "zhangsan")], {})
    ticket = uuid4()
    customer.link_ticket(ticket, "wecom", "空调报修", "repair", None)
    return customer, ticket


def test_media_goes_to_the_newest_open_ticket_once_per_message_else_is_kept():
    customer, ticket = customer_with_ticket()
    assert customer.receive_image("wecom", "m1", "media-1", None) == ticket  # received: open already
    assert customer.receive_image("wecom", "m1", "media-1", None) == ticket  # a retry records nothing
    customer.ticket_status(ticket, "closed")
    assert customer.receive_location("wecom", "m2", 22.5, 113.9, "深圳") is None
    names = [type(e).__name__ for e in customer.collect_events()]
    assert names == ["Registered", "TicketLinked", "AttachmentAdded", "TicketStatusReported", "MediaKept"]
    assert customer.last_location == "深圳" and [m["message_id"] for m in customer.media_of(ticket)] == ["m1"]


def test_a_copy_from_the_aggregate_cache_changes_without_touching_the_cached_customer():
    cached, ticket = customer_with_ticket()
    cached.collect_events()
    before = copy.deepcopy(cached.__dict__)
    twin = copy.deepcopy(cached)
    twin.add_identity("phone", "13900000000")
    twin.update_profile({"address": "深圳市南山区"})
    twin.ticket_status(ticket, "closed")
    twin.link_ticket(uuid4(), "h5", "又坏了", "default", None)
    twin.receive_location("wecom", "m9", 22.5, 113.9, "深圳")
    twin.propose_profile(ticket, "h5", {"name": "李四"})
    assert len(twin.collect_events()) == 6 and not cached.collect_events()
    assert cached.__dict__ == before


def test_opportunities_move_through_stages_until_won_or_lost():
    customer, _ = customer_with_ticket()
    customer.create_opportunity("o1", "保养合同", "99.5", "lead", "lisi")
    customer.create_opportunity("o1", "保养合同", "99.5", "lead", "lisi")  # the same request again
    customer.move_opportunity("o1", "negotiation", "lisi")
    customer.lose_opportunity("o1", "预算不足", "lisi")
    assert customer.opportunities["o1"].to_dict() == {
        "id": "o1",
        "title": "保养合同",
        "amount": "99.5",
        "stage": "lost",
        "open": False,
        "reason": "预算不足",
    }
    with pytest.raises(Conflict):
        customer.win_opportunity("o1", "lisi")
    with pytest.raises(Invalid):
        customer.create_opportunity("o2", "x", "-1", "lead", "lisi")
    with pytest.raises(Invalid):
        customer.create_opportunity("o3", "x", None, "won", "lisi")  # opened at an open stage only


def envelope(type_: str, subject, **data) -> Envelope:
    return Envelope(
        id=uuid4(), source="scrm/test", type=type_, subject=subject, tenant="acme", data=data, time=datetime.now(UTC)
    )


def test_the_policy_links_the_ticket_and_follows_its_status_whichever_stream_comes_first():
    customer = Customer.register("acme", "h5", [("phone", "139")], {"name": "旧名"})
    submission = Submission(
        tenant="acme",
        channel="h5",
        submission_id="s1",
        customer={"phone": "139", "name": "新名"},
        description="漏水",
        template="default",
        route={"by": "default"},
        customer_id=customer.id,
    )
    uow = Store(customer, submission)
    customer_policy(envelope("ticket.opened", submission.id), uow)  # before intake's own ticket.created
    assert customer.tickets[submission.id].status == "open"
    customer_policy(envelope("ticket.created", submission.id), uow)
    assert customer.profile == {"name": "旧名"}  # a submission proposes, never overwrites
    assert customer.pending_proposals == [{"ticket_id": submission.id, "channel": "h5", "profile": {"name": "新名"}}]
    customer_policy(envelope("ticket.transitioned", submission.id, status="cancelled"), uow)
    customer_policy(envelope("ticket.assigned", submission.id), uow)  # not about being open
    customer_policy(envelope("ticket.opened", uuid4()), uow)  # not intake's: ignored
    assert customer.tickets[submission.id].status == "cancelled" and customer.open_ticket is None


def test_a_merge_is_public_with_every_identity_of_the_one_who_stays():
    """Issue 14: merging was private to intake; customer.merged now says who went where, known by what."""
    stays = Customer.register("acme", "api", [("unionid", "u-1"), ("phone", "13800138000")], {})
    goes = Customer.register("acme", "mp", [("openid", "o-1"), ("phone", "13800138000")], {})
    stays.absorb(goes, by="api")
    absorbed = [e for e in stays.collect_events() if isinstance(e, Customer.Absorbed)]
    [merged] = [OUTBOX.envelope(e) for e in absorbed]
    assert validate_envelope(merged) is merged and (merged.type, merged.subject) == ("customer.merged", stays.id)
    assert merged.data == {
        "customer_id": str(stays.id),
        "merged_customer_id": str(goes.id),
        "identities": {"phone": ["13800138000"], "openid": ["o-1"], "unionid": ["u-1"]},
        "by": "api",
    }


def test_flags_hold_for_a_customer_merged_away_through_the_one_they_went_to():
    stays, goes = uuid4(), uuid4()
    store = Store(CustomerFlags(tenant="acme", customer_id=stays), CustomerFlags(tenant="acme", customer_id=goes))
    store.get(flags_id("acme", stays)).set(["vip", "vip"], by="lisi")
    store.get(flags_id("acme", goes)).moved_to(stays)
    assert holding(store.get, "acme", goes).flags == ["vip"] and holding(store.get, "acme", uuid4()) is None
    with pytest.raises(Invalid):
        store.get(flags_id("acme", stays)).set([f"f{n}" for n in range(21)], by="lisi")


def test_ticket_created_carries_the_customers_flags_in_its_customer_block():
    submission = Submission(
        tenant="acme",
        channel="h5",
        submission_id="s-1",
        customer={"phone": "13800138000"},
        description="漏水",
        template="default",
        route={"by": "default"},
        customer_id=uuid4(),
        flags=["vip"],
    )
    created = OUTBOX.envelope(submission.collect_events()[0])
    assert created.data["customer"] == {"phone": "13800138000", "flags": ["vip"]}
    assert validate_envelope(created) is created


def test_a_merge_recorded_before_it_went_public_is_read_as_v2():
    import orjson
    from eventsourcing.persistence import StoredEvent

    from services.intake.application import IntakeApplication

    app = IntakeApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stays = Customer.register("acme", "api", [("unionid", "u-1")], {})
    stays.absorb(Customer.register("acme", "mp", [("openid", "o-1")], {}), by="api")
    absorbed = next(e for e in stays.collect_events() if isinstance(e, Customer.Absorbed))
    stored = app.mapper.to_stored_event(absorbed)
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["known_by"]
    v1 = app.mapper.to_domain_event(StoredEvent(stored.originator_id, 2, stored.topic, orjson.dumps(state)))
    assert v1.known_by == {"openid": ["o-1"]}  # a v1 event said the other's identities only
