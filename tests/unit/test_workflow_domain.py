from decimal import Decimal
from uuid import uuid4

import pytest

from shared.errors import Conflict, Invalid, NotAllowed
from services.workflow.domain import Ticket, default_template

TEMPLATE = default_template("tech-1")


def open_ticket():
    return Ticket.open(uuid4(), "acme", TEMPLATE, customer={"name": "张三"}, description="漏水", channel="h5")


def test_a_new_ticket_enters_the_first_node_with_the_configured_handler():
    ticket = open_ticket()
    assert (ticket.node, ticket.handler, ticket.closed) == ("处理中", "tech-1", False)
    assert [type(e).__name__ for e in ticket.collect_events()] == ["Opened"]


def test_the_ticket_id_is_the_one_intake_derived():
    ticket_id = uuid4()
    assert Ticket.open(ticket_id, "acme", TEMPLATE, {}, "d", "h5").id == ticket_id


def test_the_handler_records_parts_and_labour_then_closes():
    ticket = open_ticket()
    ticket.consume_parts("tech-1", [{"code": "P-FILTER", "quantity": "2"}])
    ticket.record_labour("tech-1", [{"code": "L-REPAIR", "quantity": 1.5}])
    ticket.close("tech-1", TEMPLATE)
    events = ticket.collect_events()
    assert [type(e).__name__ for e in events] == ["Opened", "PartsConsumed", "LabourRecorded", "Closed"]
    assert events[1].items == [{"code": "P-FILTER", "quantity": Decimal("2")}]
    assert (events[3].from_node, events[3].to_node) == ("处理中", "已完成")
    assert ticket.closed and ticket.node == "已完成"


def test_only_the_current_handler_may_act():
    with pytest.raises(NotAllowed):
        open_ticket().consume_parts("someone-else", [{"code": "P-FILTER", "quantity": 1}])


def test_a_closed_ticket_takes_no_more_actions():
    ticket = open_ticket()
    ticket.close("tech-1", TEMPLATE)
    with pytest.raises(Conflict):
        ticket.record_labour("tech-1", [{"code": "L-VISIT", "quantity": 1}])
    with pytest.raises(Conflict):
        ticket.close("tech-1", TEMPLATE)


@pytest.mark.parametrize("items", [[], [{"code": "P-FILTER", "quantity": 0}], [{"code": "P-FILTER", "quantity": "-1"}]])
def test_items_need_positive_quantities(items):
    with pytest.raises(Invalid):
        open_ticket().consume_parts("tech-1", items)
