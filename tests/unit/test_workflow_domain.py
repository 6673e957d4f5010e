"""The Ticket on the template engine, handler resolution and the staff directory: no I/O."""

from decimal import Decimal
from uuid import uuid4

import pytest

from shared.errors import Conflict, Invalid, NotAllowed
from services.workflow.assignment import Assigner, Assignment, Need
from services.workflow.domain import Ticket
from services.workflow.library import TemplateLibrary, choose, default_template
from services.workflow.staff import Directory, Member, StaffDirectory
from services.workflow.templates.examples import load

TEMPLATE = default_template("tech-1")
ASSIGNER = Assigner()


def staff() -> Directory:
    d = StaffDirectory(tenant="acme")
    d.save_member("boss", "admin", roles=("service_supervisor",))
    d.save_member("cs-1", "admin", roles=("customer_service",), supervisor="boss")
    d.save_member("fin-1", "admin", departments=("finance",))
    d.save_member("cashier-01", "admin")
    return d.directory


def open_ticket(template=TEMPLATE, **more):
    return Ticket.open(
        uuid4(),
        "acme",
        template,
        customer={"name": "张三"},
        description="漏水",
        channel="h5",
        assigner=ASSIGNER,
        **more,
    )


def names(ticket):
    return [type(e).__name__ for e in ticket.collect_events()]


def test_a_new_ticket_enters_the_first_node_with_the_configured_handler():
    ticket = open_ticket()
    assert (ticket.node, ticket.handler, ticket.closed) == ("处理中", "tech-1", False)
    assert names(ticket) == ["Opened"]


def test_the_ticket_id_is_the_one_intake_derived():
    ticket_id = uuid4()
    assert Ticket.open(ticket_id, "acme", TEMPLATE, {}, "d", "h5", ASSIGNER).id == ticket_id


def test_the_handler_records_parts_and_labour_then_closes():
    ticket = open_ticket()
    ticket.consume_parts("tech-1", [{"code": "P-FILTER", "quantity": "2"}])
    ticket.record_labour("tech-1", [{"code": "L-REPAIR", "quantity": 1.5}])
    ticket.act(TEMPLATE, "advance", "tech-1", ASSIGNER)
    events = ticket.collect_events()
    assert [type(e).__name__ for e in events] == ["Opened", "PartsConsumed", "LabourRecorded", "Closed"]
    assert events[1].items == [{"code": "P-FILTER", "quantity": Decimal("2")}]
    assert (events[3].from_node, events[3].to_node, events[3].by) == ("处理中", "已完成", "tech-1")
    assert ticket.closed and ticket.node == "已完成"


def test_only_the_handler_may_act_and_the_refusal_names_the_rule():
    with pytest.raises(NotAllowed) as denied:
        open_ticket().consume_parts("someone-else", [{"code": "P-FILTER", "quantity": 1}])
    assert denied.value.details["rule"] == "handler"


def test_a_closed_ticket_takes_no_more_actions_but_may_be_reopened():
    ticket = open_ticket()
    ticket.act(TEMPLATE, "advance", "tech-1", ASSIGNER)
    with pytest.raises(Conflict):
        ticket.record_labour("tech-1", [{"code": "L-VISIT", "quantity": 1}])
    ticket.act(TEMPLATE, "reopen", "tech-1", ASSIGNER)
    assert (ticket.status, ticket.node, ticket.handler) == ("open", "处理中", "tech-1")
    assert ticket.assignments["处理中"].reason == "退回/重开：交还之前处理过的 tech-1"


@pytest.mark.parametrize("items", [[], [{"code": "P-FILTER", "quantity": 0}], [{"code": "P-FILTER", "quantity": "-1"}]])
def test_items_need_positive_quantities(items):
    with pytest.raises(Invalid):
        open_ticket().consume_parts("tech-1", items)


def test_a_role_pool_lets_any_member_act_or_claim_and_others_are_told_the_rule():
    refund, directory = load("refund"), staff()
    ticket = open_ticket(refund, staff=directory)
    assert (ticket.node, ticket.handler) == ("apply", "role:customer_service")
    with pytest.raises(NotAllowed) as denied:
        ticket.act(refund, "advance", "fin-1", ASSIGNER, directory)
    assert denied.value.details["rule"] == "handler"
    ticket.act(refund, "claim", "cs-1", ASSIGNER, directory)
    assert (
        ticket.handler == "cs-1" and ticket.assignments["apply"].reason == "cs-1 领取自角色 customer_service 的处理池"
    )
    with pytest.raises(NotAllowed) as denied:
        ticket.act(refund, "approve", "cs-1", ASSIGNER, directory)
    assert denied.value.details["rule"] == "node_actions"
    ticket.act(refund, "advance", "cs-1", ASSIGNER, directory, values={"refund_reason": "破损", "refund_amount": "20"})
    assert (ticket.node, ticket.handler) == ("review", "boss")  # the supervisor of the previous handler
    assert ticket.assignments["review"].reason == "上一处理人 cs-1 的主管 boss"


def test_a_transfer_names_the_new_handler_and_why():
    refund, directory = load("refund"), staff()
    ticket = open_ticket(refund, staff=directory)
    ticket.act(refund, "transfer", "cs-1", ASSIGNER, directory, handler={"kind": "user", "value": "fin-1"})
    assert ticket.handler == "fin-1"
    assert ticket.assignments["apply"].reason == "cs-1 转派（原处理人 role:customer_service）"
    assert names(ticket) == ["Opened", "Assigned"]


def test_parallel_branches_each_get_a_handler_and_a_return_goes_back_to_who_handled_it():
    installation = load("installation")
    directory = Directory(
        {
            "d-1": Member("d-1", roles=("dispatcher",)),
            "w-1": Member("w-1", roles=("warehouse",)),
            "tech-1": Member("tech-1", roles=("technician",)),
        }
    )
    ticket = open_ticket(installation, staff=directory)
    ticket.act(installation, "advance", "d-1", ASSIGNER, directory)
    assert ticket.nodes == ["parts_check", "schedule"]
    assert {n: ticket.assignment_at(n).handler for n in ticket.nodes} == {
        "parts_check": "role:warehouse",
        "schedule": "queue:any",
    }
    assert ticket.assignment_at("schedule").reason == (
        "派单规则「nearest_technician」暂不可用：进入待派单队列（any），等待派单员领取"
    )
    ticket.act(installation, "claim", "d-1", ASSIGNER, directory, node="schedule")  # a dispatcher takes it on
    ticket.act(installation, "advance", "w-1", ASSIGNER, directory, values={"parts_status": "complete"})
    ticket.act(installation, "transfer", "d-1", ASSIGNER, directory, handler={"kind": "user", "value": "tech-1"})
    ticket.act(installation, "advance", "tech-1", ASSIGNER, directory, values={"appointment": "2025-03-01T09:00+08:00"})
    assert (ticket.nodes, ticket.handler) == (["install"], "queue:any")
    with pytest.raises(NotAllowed):  # a technician sees only the queues of their role
        ticket.act(installation, "claim", "tech-1", ASSIGNER, directory)
    ticket.act(installation, "transfer", "d-1", ASSIGNER, directory, handler={"kind": "user", "value": "tech-1"})
    ticket.act(installation, "return", "tech-1", ASSIGNER, directory, to="dispatch")
    assert (ticket.node, ticket.handler) == ("dispatch", "d-1")
    kinds = names(ticket)
    assert kinds.count("Transitioned") == 4 and kinds.count("Assigned") == 5 and kinds.count("Unassigned") == 2


def test_the_default_template_is_chosen_for_unknown_keys_and_variants_by_region():
    library = TemplateLibrary(tenant="acme")
    assert choose(library, "repair", None, TEMPLATE) is TEMPLATE
    library.save_draft(load("repair"), "admin")
    library.publish("repair", "admin")
    library.copy(library.catalogue.latest("repair"), "repair-gd", "广东维修", "admin", regions=("广东",))
    library.publish("repair-gd", "admin")
    assert choose(library, "repair", "广东/深圳", TEMPLATE).key == "repair-gd"
    assert choose(library, "repair", "上海", TEMPLATE).key == "repair"
    with pytest.raises(Conflict, match="built in"):
        library.save_draft(TEMPLATE, "admin")


def test_an_assignment_rule_strategy_plugs_in_by_name():
    def nearest(need: Need):
        return Assignment(need.node.key, "user", "tech-near", "nearest to the address")

    ticket = Ticket.open(
        uuid4(), "acme", load("repair"), {}, "d", "wecom", Assigner({"least_loaded_technician": nearest})
    )
    assert ticket.node == "triage"
    repair = load("repair")
    ticket.act(repair, "claim", "cs", Assigner(), Directory({"cs": Member("cs", roles=("customer_service",))}))
    ticket.act(
        repair, "advance", "cs", Assigner({"least_loaded_technician": nearest}), values={"warranty": "in_warranty"}
    )
    assert (ticket.node, ticket.handler) == ("warranty_repair", "tech-near")


def test_the_directory_refuses_supervisor_cycles_and_removing_a_supervisor():
    d = StaffDirectory(tenant="acme")
    d.save_member("a", "admin")
    d.save_member("b", "admin", supervisor="a")
    with pytest.raises(Invalid, match="cycle"):
        d.save_member("a", "admin", supervisor="b")
    with pytest.raises(Conflict, match="still supervises b"):
        d.remove_member("a", "admin")
    assert d.directory.pool("role", "x") == [] and d.directory.member("nobody") == Member("nobody")


def test_events_stored_before_templates_are_read_on_the_default_template():
    from services.workflow.application import WorkflowApplication

    app = WorkflowApplication(ASSIGNER)  # in memory
    ticket = open_ticket()
    ticket.act(TEMPLATE, "advance", "tech-1", ASSIGNER)
    stored = []
    for event, added in zip(
        ticket.collect_events(),
        (("region", "progress", "happened", "assignments"), ("action", "node", "progress", "happened")),
    ):
        record = app.mapper.to_stored_event(event)
        state = {
            k: v for k, v in app.mapper.transcoder.decode(record.state).items() if k not in added + ("class_version",)
        }  # as v1 wrote it
        stored.append(
            type(record)(
                record.originator_id, record.originator_version, record.topic, app.mapper.transcoder.encode(state)
            )
        )
    app.recorder.insert_events(stored)
    old = app.repository.get(ticket.id)
    assert (old.node, old.handler, old.status, old.template) == ("已完成", "tech-1", "closed", "default")
    old.act(TEMPLATE, "reopen", "tech-1", ASSIGNER)
    assert (old.node, old.status) == ("处理中", "open")
