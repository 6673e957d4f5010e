"""SLA rules in templates and the clocks a Ticket runs: targets per region, timers fired in order
and once, responses, pauses, VIP reminders, escalations, publish-time problems. No I/O, no clock."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import given, settings, strategies as st

from shared.errors import Conflict, Invalid, NotAllowed
from services.workflow.assignment import Assigner
from services.workflow.domain import Ticket
from services.workflow.sla.rules import NodeSla
from services.workflow.staff import StaffDirectory
from services.workflow.templates.model import Template
from services.workflow.templates.validation import problems, validate

SH = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2025, 3, 10, 10, 0, tzinfo=SH)
ASSIGNER = Assigner()
TRIAGE_SLA = {
    "response": "2h",
    "resolution": "1d",
    "warn_before": "30m",
    "regions": [
        {"regions": ["广东"], "response": "4h"},
        {"regions": ["广东/深圳", "北京"], "response": "1h"},
        {"regions": ["四川"], "response": "next_business_day"},
    ],
    "escalation": [
        {"after": "0m", "do": "remind"},
        {"after": "1h", "do": "notify_supervisor"},
        {"after": "2h", "do": "reassign", "to": {"kind": "user", "value": "backup-1"}},
    ],
    "vip": {"flag": "vip", "remind_every": "30m", "times": 2},
    "pausable": True,
}
TEMPLATE = validate(
    Template.from_dict(
        {
            "key": "svc",
            "name": "服务",
            "version": 1,
            "fields": [{"key": "note", "label": "备注", "type": "text"}],
            "nodes": [
                {
                    "key": "triage",
                    "name": "受理",
                    "handler": {"kind": "user", "value": "cs-1"},
                    "actions": ["view", "edit", "advance", "transfer", "cancel", "close", "reopen"],
                    "fields": {"editable": ["note"]},
                    "sla": TRIAGE_SLA,
                },
                {
                    "key": "fix",
                    "name": "维修",
                    "handler": {"kind": "user", "value": "tech-1"},
                    "actions": ["view", "advance", "return"],
                    "sla": {"resolution": "4h"},
                },
                {"key": "done", "name": "完成", "kind": "end", "actions": ["view", "reopen"]},
            ],
            "transitions": [{"from": "triage", "to": "fix"}, {"from": "fix", "to": "done"}],
        }
    )
)


def directory():
    d = StaffDirectory(tenant="acme")
    d.save_member("boss", "admin")
    d.save_member("cs-1", "admin", supervisor="boss")
    d.save_member("tech-1", "admin")
    return d.directory


def open_ticket(region="广东/深圳/南山", customer=None, at=MONDAY_10):
    return Ticket.open(
        uuid4(),
        "acme",
        TEMPLATE,
        customer=customer or {"name": "张三"},
        description="漏水",
        channel="h5",
        assigner=ASSIGNER,
        region=region,
        now=at,
    )


def sla_events(ticket):
    return [e for e in ticket.collect_events() if isinstance(e, Ticket.SlaEvent)]


def local(at: datetime) -> str:
    return at.astimezone(SH).strftime("%a %H:%M")


def test_the_most_specific_regional_rule_wins_and_keeps_the_base_for_what_it_leaves_out():
    sla = NodeSla.from_dict(TRIAGE_SLA)
    assert sla.targets(None) == sla.targets("上海") and sla.targets("上海").rule == "default"
    assert (sla.targets("广东/深圳/南山").response, sla.targets("广东/深圳/南山").rule) == ("1h", "region 广东/深圳")
    assert (sla.targets("广东/广州").response, sla.targets("广东/广州").resolution) == ("4h", "1d")
    assert sla.targets("北京").response == "1h" and sla.targets("广东深圳").rule == "default"
    assert sla.targets("四川/凉山").response == "next_business_day"
    assert NodeSla.from_dict(sla.to_dict()) == sla


def test_entering_a_node_starts_its_clocks_with_every_timer_due_in_working_time():
    ticket = open_ticket()
    (started,) = sla_events(ticket)
    assert isinstance(started, Ticket.SlaStarted) and (started.node, started.visit, started.rule) == (
        "triage",
        1,
        "region 广东/深圳",
    )
    response, resolution = ticket.sla.at("triage")
    assert [(t.key, local(t.due)) for t in response.timers] == [
        ("warn", "Mon 10:30"),
        ("breach", "Mon 11:00"),
        ("escalate.0", "Mon 11:00"),
        ("escalate.1", "Mon 12:00"),
        ("escalate.2", "Mon 14:00"),
    ]  # lunch 12:00–13:00 is not counted
    assert local(resolution.deadline) == "Tue 10:00"  # one working day: 8 h
    assert started.next_due == response.timers[0].due


def test_next_business_day_for_remote_regions():
    ticket = open_ticket(region="四川/凉山", at=datetime(2025, 3, 7, 16, 0, tzinfo=SH))  # a Friday
    assert local(ticket.sla.clock("triage", "response").deadline) == "Mon 18:00"


def test_timers_fire_in_order_once_each_and_the_chain_ends_with_the_backup():
    ticket, staff = open_ticket(), directory()
    ticket.collect_events()
    assert ticket.fire_timers(TEMPLATE, staff, MONDAY_10 + timedelta(minutes=29)) == 0
    assert ticket.fire_timers(TEMPLATE, staff, MONDAY_10 + timedelta(minutes=45)) == 1
    assert ticket.fire_timers(TEMPLATE, staff, MONDAY_10 + timedelta(minutes=45)) == 0  # never twice
    assert ticket.fire_timers(TEMPLATE, staff, datetime(2025, 3, 10, 15, 0, tzinfo=SH)) == 4
    events = ticket.collect_events()
    assert [(type(e).__name__, getattr(e, "timer", None)) for e in events] == [
        ("SlaWarned", "warn"),
        ("SlaBreached", "breach"),
        ("Escalated", "escalate.0"),
        ("Escalated", "escalate.1"),
        ("Escalated", "escalate.2"),
        ("Assigned", None),
    ]
    remind, supervisor, reassign = events[2:5]
    assert (remind.action, remind.to, supervisor.action, supervisor.to) == (
        "remind",
        ["cs-1"],
        "notify_supervisor",
        ["boss"],
    )
    assert (reassign.action, reassign.to, reassign.handler) == ("reassign", ["backup-1"], "cs-1")
    assert ticket.handler == "backup-1" and "由 cs-1 改派给备岗 backup-1" in ticket.assignments["triage"].reason
    assert events[0].at == MONDAY_10 + timedelta(minutes=45) and local(events[0].due) == "Mon 10:30"
    assert events[-2].next_due == ticket.sla.next_due() == ticket.sla.clock("triage", "resolution").timers[0].due


def test_responding_meets_the_response_target_and_leaving_meets_the_rest():
    ticket = open_ticket()
    ticket.act(
        TEMPLATE,
        "edit",
        "cs-1",
        ASSIGNER,
        directory(),
        values={"note": "已联系"},
        now=MONDAY_10 + timedelta(minutes=20),
    )
    met = [e for e in sla_events(ticket) if isinstance(e, Ticket.SlaMet)]
    assert [(e.clock, e.how, e.on_time) for e in met] == [("response", "responded", True)]
    assert [c.kind for c in ticket.sla.at("triage")] == ["resolution"]
    ticket.fire_timers(TEMPLATE, directory(), datetime(2025, 3, 11, 9, 50, tzinfo=SH))  # the resolution's warning
    ticket.act(TEMPLATE, "advance", "cs-1", ASSIGNER, directory(), now=datetime(2025, 3, 11, 10, 30, tzinfo=SH))
    events = sla_events(ticket)
    assert [(type(e).__name__, e.node) for e in events] == [
        ("SlaWarned", "triage"),
        ("SlaMet", "triage"),
        ("SlaStarted", "fix"),
    ]
    assert (events[1].how, events[1].on_time) == ("left", False)  # late, though no timer had said so yet
    assert local(ticket.sla.clock("fix", "resolution").deadline) == "Tue 15:30"


def test_a_pause_while_waiting_for_the_customer_shifts_the_deadlines():
    ticket, staff = open_ticket(region=None), directory()
    ticket.act(TEMPLATE, "pause", "cs-1", ASSIGNER, staff, now=MONDAY_10 + timedelta(minutes=15))
    assert ticket.fire_timers(TEMPLATE, staff, datetime(2025, 3, 20, tzinfo=SH)) == 0  # nothing fires while paused
    with pytest.raises(Conflict, match="paused already"):
        ticket.act(TEMPLATE, "pause", "cs-1", ASSIGNER, staff, now=MONDAY_10 + timedelta(hours=1))
    ticket.act(TEMPLATE, "resume", "cs-1", ASSIGNER, staff, now=datetime(2025, 3, 11, 10, 15, tzinfo=SH))
    names = [type(e).__name__ for e in sla_events(ticket)]
    assert names == ["SlaStarted", "SlaMet", "SlaPaused", "SlaResumed"]  # pausing answered the response target
    assert local(ticket.sla.clock("triage", "resolution").deadline) == "Wed 10:00"  # was Tue 10:00: a day later
    with pytest.raises(Conflict, match="not paused"):
        ticket.act(TEMPLATE, "resume", "cs-1", ASSIGNER, staff, now=datetime(2025, 3, 11, 11, tzinfo=SH))
    fixing = open_ticket()
    fixing.act(TEMPLATE, "advance", "cs-1", ASSIGNER, staff, now=MONDAY_10)
    with pytest.raises(NotAllowed) as refused:
        fixing.act(TEMPLATE, "pause", "tech-1", ASSIGNER, staff, now=MONDAY_10)
    assert refused.value.details["rule"] == "node_actions"


def test_vip_customers_are_reminded_again_after_a_breach():
    ticket = open_ticket(region=None, customer={"name": "王总", "flags": ["vip"]})
    ticket.collect_events()
    ticket.fire_timers(TEMPLATE, directory(), datetime(2025, 3, 10, 17, 0, tzinfo=SH))
    vip = [e for e in ticket.collect_events() if isinstance(e, Ticket.Escalated) and e.vip]
    assert [(e.timer, local(e.due), e.to) for e in vip] == [
        ("vip.1", "Mon 13:30", ["cs-1"]),
        ("vip.2", "Mon 14:00", ["cs-1"]),
    ]  # lunch not counted
    assert vip[1].reason == "节点「受理」的响应时限（2h）已超时；VIP 客户：第 2/2 次提醒 cs-1"
    plain = open_ticket(region=None)
    assert not any(t.key.startswith("vip") for c in plain.sla.clocks for t in c.timers)


def test_cancelling_stops_the_clocks_and_reopening_starts_them_again():
    ticket, staff = open_ticket(), directory()
    ticket.act(TEMPLATE, "cancel", "cs-1", ASSIGNER, staff, now=MONDAY_10 + timedelta(minutes=5))
    assert ticket.sla.clocks == () and ticket.sla.next_due() is None
    ticket.act(TEMPLATE, "reopen", "cs-1", ASSIGNER, staff, now=MONDAY_10 + timedelta(hours=1))
    events = sla_events(ticket)
    assert [(type(e).__name__, getattr(e, "how", None)) for e in events][1:] == [
        ("SlaMet", "cancelled"),
        ("SlaMet", "cancelled"),
        ("SlaStarted", None),
    ]
    assert events[-1].visit == 2


def test_no_supervisor_on_record_is_said_plainly():
    ticket = open_ticket()
    ticket.act(
        TEMPLATE, "transfer", "cs-1", ASSIGNER, directory(), handler={"kind": "user", "value": "tech-1"}, now=MONDAY_10
    )
    ticket.collect_events()
    ticket.fire_timers(TEMPLATE, directory(), datetime(2025, 3, 10, 12, 30, tzinfo=SH))
    (told,) = [
        e for e in ticket.collect_events() if isinstance(e, Ticket.Escalated) and e.action == "notify_supervisor"
    ]
    assert told.to == [] and "tech-1 没有登记主管，无人可通知" in told.reason


def test_a_node_with_an_sla_needs_a_time():
    with pytest.raises(ValueError, match="say when"):
        open_ticket(at=None)


def test_publish_time_problems_of_slas_and_calendars():
    broken = Template.from_dict({**TEMPLATE.to_dict(), "calendar": {"timezone": "Nowhere/City", "weekdays": []}})
    assert problems(broken)[:2] == [
        "calendar: unknown time zone 'Nowhere/City' (an IANA name such as Asia/Shanghai)",
        "calendar: a calendar needs working days",
    ]
    data = TEMPLATE.to_dict()
    data["nodes"][0]["sla"] = {
        "response": "soon",
        "warn_before": "3h",
        "resolution": "2h",
        "escalation": [{"after": "2h", "do": "remind"}, {"after": "1h", "do": "reassign"}, {"do": "shout"}],
        "regions": [{"regions": [], "response": "1h"}],
        "vip": {"times": 0},
    }
    data["nodes"][2]["sla"] = {"response": "1h"}
    found = problems(Template.from_dict(data))
    assert found == [
        "node 'triage' sla: response 'soon' is not a positive duration (30m, 2h, 1d …) or 'next_business_day'",
        "node 'triage' sla: regional rule 0 needs regions (paths like 广东/深圳)",
        "node 'triage' sla: warn_before '3h' is not shorter than the resolution target '2h'",
        "node 'triage' sla: escalation step 1: steps come in order of 'after' ('1h' is earlier than the step before)",
        "node 'triage' sla: escalation step 1: reassign names the backup: to {kind: user|role|department, value}",
        "node 'triage' sla: escalation step 2: do one of remind, notify_supervisor, reassign, not 'shout'",
        "node 'triage' sla: escalation step 2: steps come in order of 'after' ('0m' is earlier than the step before)",
        "node 'triage' sla: vip: times is 1 to 50, not 0",
        "node 'done': only a task has an SLA; a end passes by itself",
    ]
    with pytest.raises(Invalid):
        Template.from_dict(
            {**TEMPLATE.to_dict(), "nodes": [{**TEMPLATE.to_dict()["nodes"][0], "sla": {"respond": "1h"}}]}
        )


def test_templates_with_slas_and_calendars_survive_json():
    data = TEMPLATE.to_dict() | {
        "calendar": {
            "timezone": "Asia/Urumqi",
            "weekdays": [1, 2, 3, 4, 5, 6],
            "hours": [["10:00", "19:00"]],
            "holidays": ["2025-10-01"],
            "workdays": ["2025-09-28"],
        }
    }
    again = Template.from_dict(data)
    assert again.to_dict() == data and Template.from_dict(again.to_dict()) == again
    assert again.business_calendar.timezone == "Asia/Urumqi" and TEMPLATE.business_calendar.timezone == "Asia/Shanghai"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 90), st.integers(1, 3000)), min_size=1, max_size=4))
def test_pauses_shift_the_deadline_by_exactly_the_working_time_they_lasted(spans):
    """Each (run, wait) in minutes: the clock runs, then waits paused. However the pauses fall (nights,
    weekends, lunch), the deadline is the target plus the working time spent paused."""
    ticket, staff, calendar = open_ticket(region=None), directory(), TEMPLATE.business_calendar
    at, paused = MONDAY_10, timedelta(0)
    for run, wait in spans:
        at += timedelta(minutes=run)
        ticket.act(TEMPLATE, "pause", "cs-1", ASSIGNER, staff, now=at)
        paused += calendar.between(at, at + timedelta(minutes=wait))
        at += timedelta(minutes=wait)
        ticket.act(TEMPLATE, "resume", "cs-1", ASSIGNER, staff, now=at)
    deadline = ticket.sla.clock("triage", "resolution").deadline
    assert calendar.between(MONDAY_10, deadline) - paused == timedelta(hours=8)
    assert ticket.sla.next_due() == min(t.due for t in ticket.sla.clock("triage", "resolution").timers)
