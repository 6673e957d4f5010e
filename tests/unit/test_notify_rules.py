"""Who notify tells what, and how a delivery goes on: the policy and the domain, on an in-memory store."""

from datetime import datetime, timedelta, timezone, UTC
from uuid import UUID, uuid4

import pytest

from shared.contracts import ticket_number
from shared.envelope import Envelope
from shared.errors import Invalid
from shared.eventstore import UnitOfWork
from shared.merges import CustomerMerges

from services.notify.application import NotifyApplication
from services.notify.audience import audience_id
from services.notify.config import NotifyConfig
from services.notify.delivery import DEAD, PENDING, Delivery, Retries, delivery_id
from services.notify.messages import MessageTemplate, render
from services.notify.optouts import OptOut, opt_out_id
from services.notify.policies import cause_of, notify_policy
from services.notify.setup import NotifySetup, QuietHours, Rule, setup_id

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
STAFF = {"d-1": ["dispatcher"], "d-2": ["dispatcher"], "d-3": ["dispatcher"], "boss": ["supervisor"]}


class Desk:
    def __init__(self):
        self.app = NotifyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.policy = notify_policy(NotifyConfig())
        self.ticket = uuid4()

    def event(self, type_, subject=None, **data):
        envelope = Envelope(
            id=uuid4(), source="scrm/x", type=type_, subject=subject or self.ticket, time=T0, tenant="acme", data=data
        )
        self.feed(envelope)
        return envelope

    def feed(self, *envelopes):
        uow = UnitOfWork(self.app, optimistic=False)
        for envelope in envelopes:
            self.policy(envelope, uow)
        self.app.record(uow.pending_events())

    def staff(self, user, roles=(), **more):
        self.event("staff.changed", uuid4(), user=user, removed=False, roles=list(roles), **more)

    def deliveries(self):
        audience = self.app.repository.get(audience_id(self.ticket))
        return [self.app.repository.get(d) for d in audience.deliveries]

    def told(self):
        return sorted((d.kind, d.recipient, d.channel) for d in self.deliveries())

    def opened(self, handler="d-1", node="triage"):
        return self.event(
            "ticket.opened", template="repair", template_version=1, node=node, handler=handler, reason="the node's rule"
        )

    def created(self, **customer):
        return self.event(
            "ticket.created",
            channel="mp",
            submission_id="m-1",
            description="空调不制冷",
            template="repair",
            customer={"name": "张三", **customer},
            customer_id=str(uuid4()),
        )


@pytest.fixture
def desk():
    return Desk()


def test_the_handler_is_told_once_however_often_the_event_arrives(desk):
    opened = desk.opened()
    desk.feed(opened, opened)
    (told,) = desk.deliveries()
    assert (told.kind, told.recipient, told.channel, told.address) == ("assigned", "staff:d-1", "wecom", "d-1")
    assert ticket_number(desk.ticket) in told.message["body"] and str(desk.ticket) in told.message["link"]
    assert told.id == delivery_id(cause_of(opened), "staff:d-1", "wecom")


def test_intakes_and_workflows_first_events_of_a_ticket_are_different_causes(desk):
    created = desk.created(openid="o-1")
    opened = Envelope(
        id=created.id,
        source="scrm/workflow",
        type="ticket.opened",
        subject=desk.ticket,
        time=T0,
        tenant="acme",
        data={"template": "repair", "template_version": 1, "node": "n", "handler": "t-1", "reason": "rule"},
    )  # the same envelope id: the same aggregate id and version
    desk.feed(opened)
    assert sorted(d.kind for d in desk.deliveries()) == ["accepted", "assigned", "technician_assigned"]


def test_a_role_pool_tells_each_of_its_three_members(desk):
    for user, roles in STAFF.items():
        desk.staff(user, roles)
    desk.opened(handler="role:dispatcher")
    assert desk.told() == [("pool", f"staff:d-{i}", "wecom") for i in (1, 2, 3)]
    assert "角色 dispatcher" in desk.deliveries()[0].message["body"]


def test_a_ticket_nobody_fits_tells_the_dispatchers_once(desk):
    for user, roles in STAFF.items():
        desk.staff(user, roles)
    desk.opened(handler="queue:technician@nanshan", node="schedule")  # the queue is no pool to tell
    desk.event(
        "ticket.unassigned",
        node="schedule",
        queue="queue:technician@nanshan",
        role="technician",
        site="nanshan",
        reason="派单规则没有找到合适的人",
        by="system",
    )
    assert desk.told() == [("unassigned", f"staff:d-{i}", "wecom") for i in (1, 2, 3)]
    assert (
        "待派单队列" in desk.deliveries()[0].message["body"]
        and "派单规则没有找到合适的人" in desk.deliveries()[0].message["body"]
    )


def test_a_pool_with_a_wecom_department_is_told_in_one_message_to_it(desk):
    for user, roles in STAFF.items():
        desk.staff(user, roles)
    desk.app.save(_setup(lambda s: s.set_group("role:dispatcher", "42", None, "admin")))
    desk.opened(handler="role:dispatcher")
    assert [(d.recipient, d.address) for d in desk.deliveries()] == [("pool:role:dispatcher", "party:42")]


def test_a_transfer_tells_the_new_handler_and_the_one_it_was_taken_from_a_claim_tells_nobody(desk):
    desk.opened(handler="role:dispatcher")
    desk.event("ticket.assigned", node="triage", handler="d-1", kind="user", value="d-1", reason="claimed", by="d-1")
    desk.event(
        "ticket.assigned",
        node="triage",
        handler="d-2",
        kind="user",
        value="d-2",
        reason="transferred by boss",
        by="boss",
    )
    staff = [t for t in desk.told() if t[1].startswith("staff:")]
    assert staff == [("handed_over", "staff:d-1", "wecom"), ("transferred", "staff:d-2", "wecom")]


def test_an_assignment_after_a_return_is_told_as_a_return_and_one_after_an_escalation_not_at_all(desk):
    desk.opened(handler="d-1")
    desk.event(
        "ticket.transitioned",
        action="return",
        by="d-2",
        node="work",
        from_nodes=["work"],
        to_nodes=["triage"],
        status="open",
        template="repair",
        template_version=1,
    )
    desk.event(
        "ticket.assigned", node="triage", handler="d-1", kind="user", value="d-1", reason="handled it before", by="d-2"
    )
    desk.event("ticket.assigned", node="triage", handler="d-3", kind="user", value="d-3", reason="SLA", by="sla")
    assert [t for t in desk.told() if t[1] == "staff:d-1"] == [
        ("assigned", "staff:d-1", "wecom"),
        ("returned", "staff:d-1", "wecom"),
    ]
    assert "staff:d-3" not in {t[1] for t in desk.told()}


def test_customers_hear_on_the_channel_they_came_from_with_sms_to_fall_back_on_even_if_workflow_was_first(desk):
    desk.opened(handler="t-1")  # before intake's ticket.created (another topic) arrived
    assert [d.kind for d in desk.deliveries()] == ["assigned"]  # the customer's notice is held
    desk.created(openid="o-1", phone="138 0013-8000")
    customer = [d for d in desk.deliveries() if d.recipient.startswith("customer:")]
    assert sorted(d.kind for d in customer) == ["accepted", "technician_assigned"]
    assert {(d.channel, d.address, tuple(map(tuple, d.fallback))) for d in customer} == {
        ("official_account", "o-1", (("sms", "13800138000"),))
    }
    assert "张三" in next(d for d in customer if d.kind == "accepted").message["body"]
    assert "?t=" in customer[0].message["link"]  # the customer's own, signed, progress link


def test_a_customer_with_no_address_on_any_channel_is_a_dead_letter_at_once(desk):
    desk.created(unionid="u-1")
    (delivery,) = desk.deliveries()
    assert (delivery.channel, delivery.status) == ("none", DEAD)


def test_sla_breaches_go_to_the_handler_and_their_supervisor_and_are_urgent(desk):
    desk.staff("boss")
    desk.staff("d-1", ["dispatcher"], supervisor="boss", email="d1@acme.cn", notify_by="email")
    sla = {
        "node": "triage",
        "visit": 1,
        "clock": "response",
        "target": "2h",
        "due": T0.isoformat(),
        "deadline": T0.isoformat(),
        "handler": "d-1",
    }
    desk.event("ticket.sla_warned", **sla)
    desk.event("ticket.sla_breached", **sla)
    told = {(d.kind, d.recipient): d for d in desk.deliveries()}
    assert set(told) == {(k, r) for k in ("sla_warned", "sla_breached") for r in ("staff:d-1", "staff:boss")}
    breached = told[("sla_breached", "staff:d-1")]
    assert breached.urgent and not told[("sla_warned", "staff:d-1")].urgent
    assert (breached.channel, breached.address, breached.fallback) == ("email", "d1@acme.cn", [["wecom", "d-1"]])
    assert "10:00" in breached.message["body"] and "响应" in breached.message["body"]  # the deadline, local time


def test_a_statement_tells_the_technician_their_earnings(desk):
    payout = {"party": None, "lines": "100.00", "adjustments": "0.00"}
    desk.event(
        "settlement.statement_issued",
        currency="CNY",
        gross="286.20",
        payouts=[{**payout, "technician": "t-1", "total": "123.50"}, {**payout, "technician": "t-2", "total": "45.00"}],
    )
    told = {d.recipient: d for d in desk.deliveries()}
    assert set(told) == {"staff:t-1", "staff:t-2"} and {d.kind for d in told.values()} == {"statement"}
    assert "123.50" in told["staff:t-1"].message["body"] and "45.00" in told["staff:t-2"].message["body"]


def _setup(change):
    setup = NotifySetup(tenant="acme")
    change(setup)
    return setup


def test_rules_per_template_and_node_and_the_tenants_own_words(desk):
    desk.app.save(
        _setup(
            lambda s: (
                s.set_rule("assigned", "repair", "triage", Rule(enabled=False), "admin"),
                s.set_message_template(
                    "assigned",
                    "wecom",
                    "repair",
                    "*",
                    MessageTemplate("派单", "{{ name }}：{{ number }} @ {{ node }}", "textcard"),
                    "admin",
                ),
            )
        )
    )
    desk.opened(node="triage")
    assert desk.deliveries() == []
    desk.opened(node="work")
    (told,) = desk.deliveries()
    assert told.message | {"link": None} == {
        "title": "派单",
        "body": f"d-1：{ticket_number(desk.ticket)} @ work",
        "link": None,
        "msgtype": "textcard",
    }


def test_a_staff_message_cannot_render_the_customers_data_however_the_tenant_words_it(desk):
    desk.app.save(
        _setup(
            lambda s: s.set_message_template(
                "assigned",
                "wecom",
                "*",
                "*",
                MessageTemplate("派单", "{{ number }} 客户[{{ customer_name }}]"),
                "admin",
            )
        )
    )
    desk.created(openid="o-1", phone="13800138000")  # the customer first: notify knows their name
    desk.opened(node="work")
    staff = next(d for d in desk.deliveries() if d.kind == "assigned")
    assert staff.message["body"] == f"{ticket_number(desk.ticket)} 客户[]"
    assert "张三" in next(d for d in desk.deliveries() if d.kind == "accepted").message["body"]


def test_a_message_template_cannot_reach_outside_its_sandbox_or_be_malformed():
    escape = MessageTemplate("{{ ''.__class__.__mro__[1].__subclasses__() }}")  # it compiles, but …
    with pytest.raises(Invalid, match="unsafe|access"):
        render("assigned", escape, {}, "http://x")
    with pytest.raises(Invalid):
        MessageTemplate(body="{% if %}")


def test_a_td_from_intake_opts_the_openid_out_of_the_official_account(desk):
    customer = uuid4()
    desk.event(
        "customer.opted_out",
        customer,
        customer_id=str(customer),
        channel="mp",
        identity="openid",
        value="o-1",
        message_id="90",
    )
    found = desk.app.repository.get(opt_out_id("acme", "official_account", "o-1"))
    assert isinstance(found, OptOut) and found.refuses("accepted") and found.refuses("completed")


def test_retries_back_off_exponentially_with_jitter_and_end_as_a_dead_letter_an_operator_redrives():
    retries = Retries(base=timedelta(seconds=10), cap=timedelta(seconds=60), attempts=4)
    delivery = Delivery(
        tenant="acme",
        ticket_id=uuid4(),
        cause=uuid4(),
        kind="assigned",
        recipient="staff:x",
        name="x",
        channel="wecom",
        address="x",
        message={},
        context={},
        template=None,
        node=None,
        urgent=False,
        fallback=[],
        fallback_of=None,
        due=T0,
    )
    waits = []
    for jitter in (0.0, 1.0, 0.5):
        delivery.failed("HTTP 503", False, T0, jitter, retries)
        waits.append((delivery.due - T0).total_seconds())
    assert waits == [5.0, 20.0, 30.0]  # 10 s * 2^(n-1), at most 60 s, times 0.5 … 1
    delivery.failed("HTTP 503", False, T0, 0.0, retries)
    assert (delivery.status, delivery.due) == (DEAD, None)
    delivery.redrive("ops", T0)
    assert (delivery.status, delivery.attempts, delivery.due) == (PENDING, 0, T0)
    delivery.failed("errcode 40056: invalid agentid", True, T0, 0.0, retries)
    assert delivery.status == DEAD  # permanent: at once


def test_quiet_hours_end_when_they_end_in_the_tenants_zone():
    quiet = QuietHours.parse("22:00", "08:00")
    at_night = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert quiet.until(at_night) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 08:00 next morning
    assert quiet.until(T0) is None
    for bad in (("22", "08:00"), ("08:00", "08:00"), ("22:00", "08:00", "Mars/Base")):
        with pytest.raises(Invalid):
            QuietHours.parse(*bad)


def test_the_most_specific_rule_wins():
    setup = _setup(
        lambda s: (
            s.set_rule("sla_warned", "*", "*", Rule(True, urgent=True), "a"),
            s.set_rule("sla_warned", "repair", "*", Rule(False), "a"),
        )
    )
    assert setup.urgent("sla_warned", "install", "x") and not setup.rule("sla_warned", "repair", "n").enabled
    assert not setup.urgent("sla_warned", "repair", "x") and setup.urgent("escalated", None, None)
    with pytest.raises(Invalid):
        setup.set_rule("assigned", "*", "triage", Rule(), "a")  # a node without its template
    assert setup_id("acme") == setup.id


def test_a_merged_customer_is_told_as_the_one_who_stays_on_the_addresses_of_both(desk):
    """Issue 14: intake's customer.merged; whichever comes first, the ticket's customer is the survivor."""
    goes, stays = str(uuid4()), str(uuid4())
    merged = {"customer_id": stays, "merged_customer_id": goes, "by": "api"}
    identities = {"unionid": ["u-1"], "openid": ["o-9", "o-1"], "wecom_external_userid": ["wm-1"]}
    desk.event("ticket.created", channel="mp", submission_id="m-1", description="不制冷", template="repair",
               customer={"name": "张三", "openid": "o-1"}, customer_id=goes)  # fmt: skip
    for _ in range(2):  # redelivered: learned once
        desk.event("customer.merged", UUID(stays), **merged, identities=identities)
    desk.opened(handler="t-1")
    customer = [d for d in desk.deliveries() if d.recipient.startswith("customer:")]
    assert [(d.kind, d.recipient, d.channel, d.address, tuple(map(tuple, d.fallback))) for d in customer] == [
        ("accepted", f"customer:{goes}", "official_account", "o-1", ()),  # before the merge
        (
            "technician_assigned",
            f"customer:{stays}",
            "official_account",
            "o-1",
            (("official_account", "o-9"), ("wecom_external", "wm-1")),
        ),
    ]  # the ticket's own openid first, then every other address of the survivor's
    assert desk.app.repository.get(CustomerMerges.create_id("acme")).version == 2


def test_customer_merges_follow_every_merge_to_the_one_who_stays():
    merges = CustomerMerges(tenant="acme")
    merges.learn({"customer_id": "b", "merged_customer_id": "c", "identities": {"phone": ["1"]}})
    merges.learn({"customer_id": "a", "merged_customer_id": "b", "identities": {"phone": ["1", "2"]}})
    merges.learn({"customer_id": "a", "merged_customer_id": "b", "identities": {"phone": ["1", "2"]}})
    assert len(merges.collect_events()) == 3  # created, two merges: the same one again records nothing
    assert [merges.survivor(c) for c in "abcd"] == ["a", "a", "a", "d"]
    assert merges.known_as("c") == merges.known_as("a") == ["a", "b", "c"] and merges.known_as("d") == ["d"]
    assert merges.identities_of("c") == {"phone": ["1", "2"]} and merges.identities_of("d") == {}
