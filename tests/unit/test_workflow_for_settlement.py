"""What workflow gives settlement: parts returned, the ticket's region, SLA targets met; and the codes
it learns from settlement's catalogue. No I/O."""

from datetime import timedelta

import pytest

from shared.contracts import validate_envelope
from shared.errors import Invalid

from services.workflow.codes import KnownCodes, UnknownCodes
from services.workflow.domain import Ticket
from services.workflow.outbox import OUTBOX
from tests.unit.test_workflow_domain import ASSIGNER, TEMPLATE, open_ticket
from tests.unit.workflow_sla import test_ticket_sla as sla


def published(ticket: Ticket) -> list:
    return [
        validate_envelope(OUTBOX.envelope(e, i))
        for i, e in enumerate(ticket.collect_events())
        if type(e) in OUTBOX.translations
    ]


def test_parts_are_returned_up_to_what_the_ticket_consumed():
    ticket = open_ticket()
    ticket.consume_parts("tech-1", [{"code": "P-FILTER", "quantity": "2"}])
    with pytest.raises(Invalid, match=r"P-FILTER \(2 left\)"):
        ticket.return_parts("tech-1", [{"code": "P-FILTER", "quantity": "1"}, {"code": "P-FILTER", "quantity": "1.5"}])
    with pytest.raises(Invalid, match="P-VALVE"):
        ticket.return_parts("tech-1", [{"code": "P-VALVE", "quantity": "1"}])
    ticket.return_parts("tech-1", [{"code": "P-FILTER", "quantity": "1.5"}])
    with pytest.raises(Invalid, match=r"0\.5 left"):
        ticket.return_parts("tech-1", [{"code": "P-FILTER", "quantity": "1"}])
    returned = published(ticket)[-1]
    assert (returned.type, returned.data) == (
        "ticket.parts_returned",
        {"by": "tech-1", "items": [{"code": "P-FILTER", "quantity": "1.5"}]},
    )


def test_only_a_handler_returns_parts_and_not_on_a_closed_ticket():
    ticket = open_ticket()
    ticket.consume_parts("tech-1", [{"code": "P-FILTER", "quantity": "2"}])
    with pytest.raises(Exception, match="handler"):
        ticket.return_parts("someone", [{"code": "P-FILTER", "quantity": "1"}])
    ticket.act(TEMPLATE, "advance", "tech-1", ASSIGNER)
    with pytest.raises(Exception, match="closed"):
        ticket.return_parts("tech-1", [{"code": "P-FILTER", "quantity": "1"}])


def test_ticket_opened_names_the_region_when_the_ticket_has_one():
    assert published(open_ticket(region="广东/深圳"))[0].data["region"] == "广东/深圳"
    assert "region" not in published(open_ticket())[0].data


def test_an_sla_target_met_is_published_with_whether_it_was_on_time():
    ticket = sla.open_ticket()
    ticket.act(
        sla.TEMPLATE,
        "edit",
        "cs-1",
        sla.ASSIGNER,
        sla.directory(),
        values={"note": "已联系"},
        now=sla.MONDAY_10 + timedelta(minutes=20),
    )  # responding meets the response target
    met = [e.data for e in published(ticket) if e.type == "ticket.sla_met"]
    assert [(m["clock"], m["how"], m["on_time"]) for m in met] == [("response", "responded", True)]


def test_codes_are_known_from_the_catalogue_and_unknown_ones_are_named():
    codes = KnownCodes(tenant="acme")
    codes.learn(
        [{"kind": "part", "code": "P-FILTER", "known": True}, {"kind": "labour", "code": "L-REPAIR", "known": True}]
    )
    codes.check("part", ["P-FILTER"])
    with pytest.raises(UnknownCodes) as refused:
        codes.check("part", ["P-FILTER", "L-REPAIR", "P-NOPE"])
    assert (refused.value.status, refused.value.details["codes"]) == (422, ["L-REPAIR", "P-NOPE"])
    codes.learn([{"kind": "part", "code": "P-FILTER", "known": False}])
    with pytest.raises(UnknownCodes):
        codes.check("part", ["P-FILTER"])
