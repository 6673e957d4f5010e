"""Issue 14 on the Ticket, no I/O: reopening by the template's roles, the unassigned queue when nobody
fits, hand-offs only to staff who are there, every reason in Chinese, priority."""

import re
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from shared.errors import Invalid, NotAllowed
from services.workflow.assignment import Assigner
from services.workflow.dispatch.profile import Profile
from services.workflow.domain import Ticket
from services.workflow.library import default_template
from services.workflow.priority import PriorityRule
from services.workflow.sla.rules import NodeSla
from services.workflow.staff import Directory, Member
from services.workflow.templates.examples import load
from services.workflow.templates.model import Template
from services.workflow.texts import DEFAULTS, Texts

ASSIGNER = Assigner()
SH = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2025, 3, 10, 10, 0, tzinfo=SH)
STAFF = Directory(
    {
        "boss": Member("boss", roles=("service_supervisor",)),
        "cs-1": Member("cs-1", roles=("customer_service",), supervisor="boss"),
        "tech-1": Member("tech-1", roles=("technician",), supervisor="boss"),
        "away": Member("away", roles=("technician",), profile=Profile(absent=True)),
        "d-1": Member("d-1", roles=("dispatcher",)),
        "lead": Member("lead", roles=("supervisor",)),
    }
)


def opened(template, description="漏水", customer=None, staff=STAFF, **more):
    return Ticket.open(
        uuid4(),
        "acme",
        template,
        customer=customer or {"name": "张三"},
        description=description,
        channel="h5",
        assigner=ASSIGNER,
        staff=staff,
        **more,
    )


def kinds(ticket):
    return [type(e).__name__ for e in ticket.collect_events()]


def test_a_supervisor_reopens_a_ticket_closed_at_a_node_whose_handler_may_not():
    template = default_template()
    ticket = opened(template)
    assert ticket.handler == "role:technician"
    ticket.act(template, "close", "tech-1", ASSIGNER, STAFF)
    assert (ticket.status, ticket.node) == ("closed", "已完成")
    with pytest.raises(NotAllowed):  # a customer-service agent is neither handler nor a reopening role
        ticket.act(template, "reopen", "cs-1", ASSIGNER, STAFF)
    with pytest.raises(Invalid, match="the template names where"):
        ticket.act(template, "reopen", "lead", ASSIGNER, STAFF, to="处理中")
    ticket.act(template, "reopen", "lead", ASSIGNER, STAFF)
    assert (ticket.status, ticket.node, ticket.handler) == ("open", "处理中", "tech-1")  # back to who closed it
    events = ticket.collect_events()
    reopened = next(e for e in events if isinstance(e, Ticket.Transitioned))
    assert (reopened.action, reopened.by, reopened.from_nodes, reopened.to_nodes) == (
        "reopen",
        "lead",
        ["已完成"],
        ["处理中"],
    )


def test_the_template_says_who_reopens():
    template = Template.from_dict(default_template().to_dict() | {"reopen": {"roles": ["dispatcher"]}})
    ticket = opened(template)
    ticket.act(template, "close", "tech-1", ASSIGNER, STAFF)
    with pytest.raises(NotAllowed):
        ticket.act(template, "reopen", "lead", ASSIGNER, STAFF)  # a supervisor, but the template names dispatchers
    ticket.act(template, "reopen", "d-1", ASSIGNER, STAFF)
    assert ticket.status == "open"


def test_nobody_in_the_pool_the_ticket_waits_in_the_queue_with_an_event_saying_why_and_a_dispatcher_claims_it():
    template = default_template()
    nobody = Directory({"d-1": STAFF.members["d-1"], "cs-1": STAFF.members["cs-1"]})
    ticket = opened(template, staff=nobody)
    assert ticket.handler == "queue:technician"
    (unassigned,) = [e for e in ticket.collect_events() if isinstance(e, Ticket.Unassigned)]
    assert (unassigned.node, unassigned.queue, unassigned.by) == ("处理中", "technician", "system")
    assert (
        unassigned.reason == "角色 technician 的处理池 目前没有任何成员：进入待派单队列（technician），等待派单员领取"
    )
    with pytest.raises(NotAllowed):  # not a dispatcher, not a technician
        ticket.act(template, "claim", "cs-1", ASSIGNER, nobody)
    ticket.act(template, "claim", "d-1", ASSIGNER, nobody)
    assert ticket.handler == "d-1" and ticket.assignments["处理中"].reason == "d-1 领取自待派单队列 technician"


def test_after_a_review_reject_with_no_supervisor_on_record_the_paid_repair_waits_for_a_supervisor():
    repair = load("repair")
    ticket = opened(repair)
    ticket.act(repair, "advance", "cs-1", ASSIGNER, STAFF, values={"warranty": "out_of_warranty"})
    assert ticket.handler == "queue:any"  # least_loaded is not plugged into this assigner: nobody fits
    ticket.act(repair, "transfer", "d-1", ASSIGNER, STAFF, handler={"kind": "user", "value": "tech-1"})
    ticket.act(repair, "advance", "tech-1", ASSIGNER, STAFF, values={"quote": "300", "quote_accepted": "yes"})
    assert ticket.handler == "boss"  # paid_repair: the supervisor of tech-1
    ticket.act(repair, "advance", "boss", ASSIGNER, STAFF, values={"finish_photos": ["att-1"]})
    ticket.act(repair, "claim", "boss", ASSIGNER, STAFF)
    ticket.collect_events()
    ticket.act(repair, "reject", "boss", ASSIGNER, STAFF)  # back to paid_repair: boss has no supervisor
    assert (ticket.node, ticket.handler) == ("paid_repair", "queue:supervisor")
    (why,) = [e.reason for e in ticket.collect_events() if isinstance(e, Ticket.Unassigned)]
    assert why.startswith("boss 没有登记主管")


@pytest.mark.parametrize(
    "handler, rule",
    [
        ({"kind": "user", "value": "nobody-xyz"}, "handler_exists"),
        ({"kind": "user", "value": "away"}, "handler_active"),
        ({"kind": "role", "value": "astronaut"}, "handler_exists"),
    ],
)
def test_a_transfer_to_someone_not_there_is_refused(handler, rule):
    template = default_template("tech-1")
    ticket = opened(template)
    with pytest.raises(Invalid) as refused:
        ticket.act(template, "transfer", "tech-1", ASSIGNER, STAFF, handler=handler)
    assert refused.value.details["rule"] == rule and ticket.handler == "tech-1"


def test_every_default_text_is_chinese_and_a_tenant_may_reword_one():
    words = {key: re.findall(r"[A-Za-z]+", re.sub(r"{[a-z_]+}", "", text)) for key, text in DEFAULTS.items()}
    assert {key: found for key, found in words.items() if set(found) - {"VIP"}} == {}  # no English left
    texts = Texts({"assign.named": "由 {user} 负责", "assign.back": "{nobody} 不存在"})
    assert texts.say("assign.named", user="a") == "由 a 负责"
    assert texts.say("assign.back", user="a") == DEFAULTS["assign.back"].format(user="a")  # a broken override


@pytest.mark.parametrize(
    "customer, values, description, expected",
    [
        ({}, {}, "空调漏水", ("normal", "未命中任何优先级规则")),
        ({}, {}, "紧急！漏水", ("urgent", "描述含关键词「紧急」")),
        ({"vip": True}, {}, "漏水", ("vip", "VIP 客户")),
        ({"flags": ["vip"]}, {"priority": "urgent"}, "紧急", ("vip", "VIP 客户")),
        ({}, {"priority": "紧急"}, "", ("urgent", "字段「priority」为 紧急")),
    ],
)
def test_priority_comes_from_a_field_the_customers_vip_flag_or_a_keyword(customer, values, description, expected):
    assert PriorityRule().decide(customer, values, description) == expected


def test_an_urgent_ticket_is_prioritized_and_its_sla_tightened_by_rule():
    sla = {"response": "4h", "priorities": {"urgent": {"response": "1h"}, "vip": {"response": "30m"}}}
    template = Template.from_dict(
        {
            "key": "t",
            "name": "T",
            "version": 1,
            "fields": [
                {"key": "priority", "label": "优先级", "type": "single_select", "options": ["normal", "urgent", "vip"]}
            ],
            "nodes": [
                {
                    "key": "a",
                    "name": "受理",
                    "handler": {"kind": "user", "value": "tech-1"},
                    "actions": ["view", "edit", "advance"],
                    "fields": {"editable": ["priority"]},
                    "sla": sla,
                },
                {"key": "end", "name": "完成", "kind": "end"},
            ],
            "transitions": [{"from": "a", "to": "end"}],
        }
    )
    assert NodeSla.from_dict(sla).to_dict() == sla
    plain, urgent = opened(template, now=MONDAY_10), opened(template, "紧急：漏水", now=MONDAY_10)
    assert (plain.priority, urgent.priority) == ("normal", "urgent")
    assert kinds(plain).count("Prioritized") == 0
    assert [e.rule for e in urgent.collect_events() if isinstance(e, Ticket.SlaStarted)] == ["priority urgent"]
    assert plain.sla.clock("a", "response").deadline == datetime(2025, 3, 10, 15, 0, tzinfo=SH)  # lunch not counted
    assert urgent.sla.clock("a", "response").deadline == datetime(2025, 3, 10, 11, 0, tzinfo=SH)
    plain.act(template, "edit", "tech-1", ASSIGNER, STAFF, values={"priority": "vip"}, now=MONDAY_10)
    (changed,) = [e for e in plain.collect_events() if isinstance(e, Ticket.Prioritized)]
    assert (plain.priority, changed.by, changed.why) == ("vip", "tech-1", "字段「priority」为 VIP")


def test_a_template_with_a_wrong_priority_rule_or_reopen_node_is_not_published():
    from services.workflow.sla.calendar import Calendar
    from services.workflow.templates.validation import problems

    sla = NodeSla.from_dict(
        {"response": "4h", "priorities": {"rush": {"response": "1h"}, "vip": {"response": "soon"}, "urgent": {}}}
    )
    assert sla.problems(set(), Calendar()) == [
        "priorities: 'rush' is not one of urgent, vip",
        "priorities: 'vip' response 'soon' is not a positive duration",
        "priorities: 'urgent' changes neither response nor resolution",
    ]
    broken = Template.from_dict(default_template().to_dict() | {"reopen": {"roles": [], "to": "已完成"}})
    assert problems(broken) == [
        "reopen: name the roles that may reopen a ticket",
        "reopen: '已完成' is not a task node of the template",
    ]
