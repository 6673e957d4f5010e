from decimal import Decimal as D

import pytest

from shared.errors import Invalid

from services.settlement.domain.stock import Movement, Stock


def out(code: str, quantity: str, line: str = "l") -> Movement:
    return Movement(line, "ticket", code, -D(quantity))


def events(stock: Stock) -> list[str]:
    return [type(e).__name__ for e in stock.collect_events()]


def test_consumption_takes_out_a_return_puts_back_and_a_receipt_brings_in():
    stock = Stock.open("acme", "WH-BJ")
    stock.receive("r-1", [("P-FILTER", D("10"))], "clerk")
    stock.move([out("P-FILTER", "3"), Movement("back", "ticket", "P-FILTER", D("1"))])
    assert stock.level("P-FILTER") == D("8")


def test_stock_low_is_emitted_once_per_crossing_not_once_per_consumption():
    stock = Stock.open("acme", "WH-BJ")
    stock.set_threshold("P-FILTER", D("5"), "clerk")  # level 0 < 5: below at once
    assert events(stock) == ["Opened", "ThresholdSet", "Low"]
    stock.receive("r-1", [("P-FILTER", D("10"))], "clerk")  # back to 10: re-armed
    stock.move([out("P-FILTER", "4", "a")])  # 6: above
    stock.move([out("P-FILTER", "2", "b")])  # 4: crosses
    stock.move([out("P-FILTER", "1", "c")])  # 3: still below, no second request
    lows = [e for e in stock.collect_events() if isinstance(e, Stock.Low)]
    assert [(e.level, e.threshold, e.cause) for e in lows] == [("4", "5", "b")]
    stock.receive("r-2", [("P-FILTER", D("10"))], "clerk")  # 13: above again
    stock.move([out("P-FILTER", "9", "d")])  # 4: a new crossing
    assert [e.cause for e in stock.collect_events() if isinstance(e, Stock.Low)] == ["d"]


def test_a_consumption_of_parts_not_in_stock_is_recorded_and_flagged():
    stock = Stock.open("acme", "WH-BJ")
    stock.receive("r-1", [("P-MOTOR", D("1"))], "clerk")
    stock.move([out("P-MOTOR", "3")])
    moved = [e for e in stock.collect_events() if isinstance(e, Stock.Moved)][0]
    assert moved.movements[0] | {} == {
        "line": "l",
        "ticket_id": "ticket",
        "code": "P-MOTOR",
        "quantity": "-3",
        "level": "-2",
        "short": "2",
    }
    assert (stock.level("P-MOTOR"), stock.shortages) == (D("-2"), 1)


def test_a_receipt_counts_once_however_often_it_is_sent():
    stock = Stock.open("acme", "WH-BJ")
    for _ in range(3):
        stock.receive("r-1", [("P-FILTER", D("2"))], "clerk")
    assert stock.level("P-FILTER") == D("2")
    with pytest.raises(Invalid):
        stock.receive("r-2", [("P-FILTER", D("0"))], "clerk")
