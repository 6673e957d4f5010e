"""The process sandbox (流程沙箱): one ticket's own changes to its template, derived purely, and the
Ticket recording them as events. No I/O."""

from uuid import uuid4

import pytest

from shared.errors import Conflict, Invalid, NotAllowed
from services.workflow import sandbox
from services.workflow.assignment import Assigner
from services.workflow.domain import Ticket
from services.workflow.sandbox import Change, effective, insertion
from services.workflow.staff import StaffDirectory
from services.workflow.templates.examples import load
from services.workflow.templates.model import HandlerRule
from services.workflow.ticket_view import visible_values

REPAIR = load("repair")
VISIT = {"key": "visit", "name": "上门复核", "handler": {"kind": "user", "value": "lead-1"}}


def targets(template, source, on="advance"):
    return [t.target for t in template.outgoing(source, on)]


def test_an_inserted_node_follows_its_node_and_takes_over_its_branches():
    changed = effective(REPAIR, [insertion("triage", VISIT)])
    assert (changed.key, changed.version) == (REPAIR.key, REPAIR.version)
    assert targets(changed, "triage") == ["visit"]
    assert targets(changed, "visit") == ["warranty_repair", "quotation"]
    assert changed.node("visit").actions == sandbox.INSERTED_ACTIONS
    assert targets(REPAIR, "triage") == ["warranty_repair", "quotation"]  # the published one stays


def test_a_skipped_node_is_gone_and_what_led_to_it_leads_to_its_successor():
    changed = effective(REPAIR, [Change("skip", "quotation")])
    assert targets(changed, "triage") == ["warranty_repair", "review"]
    assert {"quotation", "declined"}.isdisjoint(n.key for n in changed.nodes)  # only quotation led to declined
    assert "paid_repair" in [n.key for n in changed.nodes]  # a rejected review still goes there
    assert effective(REPAIR, [Change("skip", "triage")]).first.key == "quotation"


def test_a_handler_override_changes_only_that_node():
    rule = HandlerRule("user", "lead-1")
    changed = effective(REPAIR, [Change("handler", "review", handler=rule)])
    assert changed.node("review").handler == rule and changed.node("triage") == REPAIR.node("triage")


def test_changes_apply_in_order_and_round_trip_as_json():
    changes = [insertion("triage", VISIT), Change("handler", "visit", handler=HandlerRule("role", "supervisor"))]
    assert [Change.from_dict(c.to_dict()) for c in changes] == changes
    assert effective(REPAIR, changes).node("visit").handler == HandlerRule("role", "supervisor")


@pytest.mark.parametrize(
    "change, problem",
    [
        (insertion("triage", {**VISIT, "key": "review"}), "node 'review' is defined more than once"),
        (insertion("triage", {**VISIT, "handler": {"kind": "user"}}), "the handler rule 'user' must name whom"),
        (insertion("done", VISIT), "node 'done' does not advance anywhere"),
        (insertion("triage", {**VISIT, "actions": ["view"]}), "must allow 'advance'"),
        (Change("skip", "done"), "a end cannot be skipped"),
        (Change("skip", "review"), "no default advance branch"),
        (Change("skip", "nowhere"), "has no node 'nowhere'"),
        (Change("handler", "done", handler=HandlerRule("user", "x")), "only a task has a handler"),
    ],
)
def test_a_change_that_would_break_the_process_is_refused_with_its_problems(change, problem):
    with pytest.raises(Invalid) as refused:
        effective(REPAIR, [change])
    assert any(problem in p for p in refused.value.details["problems"]), refused.value.details


def test_a_request_names_what_its_operation_needs():
    with pytest.raises(Invalid):
        sandbox.requested("skip")
    assert sandbox.requested("handler", node="review", handler={"kind": "user", "value": "x"}).handler.value == "x"


# --- on the Ticket -------------------------------------------------------------------------


def directory():
    d = StaffDirectory(tenant="acme")
    d.save_member("lead", "admin", roles=("supervisor",))
    d.save_member("cs-1", "admin", roles=("customer_service",))
    return d.directory


def opened():
    ticket = Ticket.open(
        uuid4(), "acme", REPAIR, customer={}, description="漏水", channel="h5", assigner=Assigner(), staff=directory()
    )
    return ticket, directory(), Assigner()


def test_only_a_supervisor_or_admin_changes_a_tickets_process():
    ticket, staff, assigner = opened()
    with pytest.raises(NotAllowed) as denied:
        ticket.change_process(REPAIR, Change("skip", "quotation"), "cs-1", assigner, staff)
    assert denied.value.details["rule"] == "sandbox"


def test_an_inserted_node_is_recorded_and_the_ticket_flows_through_it():
    ticket, staff, assigner = opened()
    ticket.change_process(REPAIR, insertion("triage", VISIT), "lead", assigner, staff, why="check the site first")
    template = effective(REPAIR, ticket.sandbox)
    ticket.act(template, "advance", "cs-1", assigner, staff, values={"warranty": "in_warranty"})
    assert (ticket.node, ticket.handler) == ("visit", "lead-1")
    ticket.act(template, "advance", "lead-1", assigner, staff)
    assert ticket.node == "warranty_repair"
    inserted = [e for e in ticket.collect_events() if type(e).__name__ == "NodeInserted"]
    assert (inserted[0].after, inserted[0].by, inserted[0].why) == ("triage", "lead", "check the site first")


def test_a_handler_override_at_the_current_node_assigns_it_again_and_says_why():
    ticket, staff, assigner = opened()
    ticket.change_process(
        REPAIR, Change("handler", "triage", handler=HandlerRule("user", "lead")), "lead", assigner, staff, why="VIP"
    )
    assert ticket.handler == "lead"
    assert ticket.assignments["triage"].reason == "流程沙箱：lead 修改了处理规则（VIP）；节点指定处理人 lead"
    assert [type(e).__name__ for e in ticket.collect_events()][-2:] == ["HandlerOverridden", "Assigned"]


def test_the_node_the_ticket_is_at_cannot_be_skipped():
    ticket, staff, assigner = opened()
    with pytest.raises(Conflict):
        ticket.change_process(REPAIR, Change("skip", "triage"), "lead", assigner, staff)


def test_read_models_on_the_published_template_show_nothing_through_an_inserted_node():
    values = {"warranty": "in_warranty", "quote": "300"}
    assert visible_values(REPAIR, values, ["visit"], union=True) == {}
    assert visible_values(REPAIR, values, ["visit", "triage"], union=False) == {}
    assert visible_values(REPAIR, values, ["visit", "triage"], union=True) == values  # through triage
