from decimal import Decimal
from uuid import uuid4

from services.settlement.domain import BUILT_IN, Settlement, money, price


def test_money_rounds_half_up_to_the_cent():
    assert money(Decimal("0.005")) == Decimal("0.01")
    assert money(Decimal("2.675")) == Decimal("2.68")  # binary floats would say 2.67


def test_a_statement_prices_lines_and_computes_tax_total_and_payout():
    lines = [{"kind": "part", "code": "P-FILTER", "quantity": Decimal("2"), "by": "t"},
             {"kind": "labour", "code": "L-REPAIR", "quantity": Decimal("1.5"), "by": "t"}]
    statement = price(BUILT_IN, lines)
    assert [l["amount"] for l in statement["lines"]] == [Decimal("70.00"), Decimal("300.00")]
    assert statement["subtotal"] == Decimal("370.00")
    assert statement["tax"] == Decimal("22.20")
    assert statement["total"] == Decimal("392.20")
    assert statement["payout"] == Decimal("183.50")  # 60 % of labour + 5 % of parts
    assert statement["currency"] == "CNY"


def test_an_unknown_code_is_priced_at_zero_and_flagged():
    statement = price(BUILT_IN, [{"kind": "part", "code": "NOPE", "quantity": Decimal(1), "by": "t"}])
    assert statement["lines"][0]["priced"] is False
    assert statement["total"] == Decimal("0.00")


def test_the_same_source_event_is_recorded_once():
    settlement = Settlement(tenant="acme", ticket_id=uuid4())
    source = uuid4()
    for _ in range(3):
        settlement.record(source, "part", "t", [{"code": "P-HOSE", "quantity": "1"}])
    assert len(settlement.lines) == 1


def test_the_statement_is_issued_once_and_later_lines_are_ignored():
    settlement = Settlement(tenant="acme", ticket_id=uuid4())
    settlement.record(uuid4(), "labour", "t", [{"code": "L-VISIT", "quantity": "1"}])
    settlement.issue(BUILT_IN, technician="t")
    first = settlement.statement
    settlement.record(uuid4(), "part", "t", [{"code": "P-MOTOR", "quantity": "1"}])
    settlement.issue(BUILT_IN, technician="t")
    assert settlement.statement is first and first["total"] == Decimal("53.00")
    assert [type(e).__name__ for e in settlement.collect_events()] == ["Opened", "LinesRecorded", "StatementIssued"]
