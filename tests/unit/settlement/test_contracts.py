"""Settlement's public events fit their contracts; old statements are upcast."""

from datetime import datetime, timezone, UTC
from decimal import Decimal as D
from uuid import UUID, uuid4

from shared.contracts import validate_envelope
from shared.envelope import Envelope

from services.settlement.domain.catalogue import Catalogue, Item
from services.settlement.domain.ledger import Ledger
from services.settlement.domain.stock import Movement, Stock
from services.settlement.outbox import OUTBOX, PARTS
from tests.unit.settlement.terms import T0, at, terms


def envelopes(aggregate) -> list[Envelope]:
    return [validate_envelope(OUTBOX.envelope(e)) for e in aggregate.collect_events() if type(e) in OUTBOX.translations]


def test_statements_and_reversals_are_published_about_the_ticket():
    the_terms, ticket = terms(), UUID(int=5)
    ledger = Ledger.open("acme", ticket, "北京")
    ledger.record("part", "p", at(2), "tech-direct", [{"code": "P-FILTER", "quantity": "1"}], the_terms)
    ledger.close("c", at(3), the_terms)
    ledger.reopen("r", at(4))
    issued, reversed_ = envelopes(ledger)
    assert (issued.type, issued.schema_version, issued.subject, issued.tenant) == (
        "settlement.statement_issued",
        2,
        ticket,
        "acme",
    )
    assert (reversed_.type, reversed_.data["reverses"]) == ("settlement.statement_reversed", issued.data["id"])


def test_the_stock_keeper_reads_parts_lines_with_their_warehouse():
    the_terms = terms()
    ledger = Ledger.open("acme", UUID(int=5), "北京")
    ledger.record("part", "p", at(2), "tech-direct", [{"code": "P-FILTER", "quantity": "2"}], the_terms)
    ledger.record("labour", "l", at(2), "tech-direct", [{"code": "L-REPAIR", "quantity": "1"}], the_terms)
    (recorded,) = [e for e in ledger.collect_events() if type(e) in PARTS]
    type_, translate = PARTS[type(recorded)]
    assert type_ == "settlement.parts_recorded"
    assert [(x["code"], x["quantity"], x["warehouse"]) for x in translate(recorded)["lines"]] == [
        ("P-FILTER", "2", "WH-BJ")
    ]


def test_stock_low_and_catalogue_changes_are_published():
    stock = Stock.open("acme", "WH-BJ")
    stock.set_threshold("P-FILTER", D("1"), "clerk")
    (low,) = envelopes(stock)
    assert (low.type, low.data) == (
        "settlement.stock_low",
        {"warehouse": "WH-BJ", "code": "P-FILTER", "level": "0", "threshold": "1", "cause": None},
    )
    stock.receive("r", [("P-FILTER", D("3"))], "clerk")
    stock.move([Movement("line-1", "t", "P-FILTER", D("-3"))])
    assert envelopes(stock)[0].data["cause"] == "line-1"
    catalogue = Catalogue(tenant="acme")
    catalogue.save([Item("part", "P-1", "一", "个", "配件")], T0, "f")
    catalogue.retire("part", "P-1", at(1), "f")
    assert [e.data["changes"] for e in envelopes(catalogue)] == [
        [{"kind": "part", "code": "P-1", "known": True}],
        [{"kind": "part", "code": "P-1", "known": False}],
    ]


def test_a_v1_statement_is_upcast_to_v2():
    v1 = Envelope(
        id=uuid4(),
        source="scrm/settlement",
        type="settlement.statement_issued",
        subject=uuid4(),
        time=datetime.now(UTC),
        tenant="acme",
        schema_version=1,
        data={
            "currency": "CNY",
            "subtotal": "270.00",
            "tax": "16.20",
            "total": "286.20",
            "technician": "technician-1",
            "payout": "123.50",
            "lines": [
                {
                    "kind": "part",
                    "code": "P-FILTER",
                    "quantity": "2",
                    "unit_price": "35.00",
                    "amount": "70.00",
                    "priced": True,
                },
                {
                    "kind": "labour",
                    "code": "L-REPAIR",
                    "quantity": "1",
                    "unit_price": "200.00",
                    "amount": "200.00",
                    "priced": True,
                },
            ],
        },
    )
    upcast = validate_envelope(v1)
    assert upcast.schema_version == 2
    assert (upcast.data["net"], upcast.data["tax"], upcast.data["gross"]) == ("270.00", "16.20", "286.20")
    assert upcast.data["payouts"] == [
        {"technician": "technician-1", "party": None, "lines": "123.50", "adjustments": "0.00", "total": "123.50"}
    ]
    assert [x["net"] for x in upcast.data["lines"]] == ["70.00", "200.00"]
