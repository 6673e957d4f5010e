from datetime import date, datetime, timezone, UTC
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from services.workflow.templates.conditions import ConditionError
from services.workflow.templates.expressions import ParseError, parse
from shared.formfields.values import Location

VALUES = {
    "amount": Decimal("1200.00"),
    "status": "in_warranty",
    "tags": ("vip", "new"),
    "note": "漏水严重",
    "bought": date(2024, 6, 1),
    "at": datetime(2024, 6, 1, 2, 0, tzinfo=UTC),
    "nothing": None,
    "where": Location(1.0, 2.0),
}


@pytest.mark.parametrize(
    "source, expected",
    [
        ("amount > 1000", True),
        ("amount >= 1200", True),
        ("amount ≥ 1200.001", False),
        ("amount < 1000", False),
        ("amount <= 1200", True),
        ("amount ≤ 1199.99", False),
        ("amount = 1200", True),
        ("amount == 1200.0", True),
        ("amount != 1200", False),
        ("amount ≠ 5", True),
        ("status = 'in_warranty'", True),
        ('status = "x"', False),
        ("status in ['in_warranty', 'x']", True),
        ("status not in ['a']", True),
        ("amount in [1, 2]", False),
        ("tags contains 'vip'", True),
        ("note contains '漏水'", True),
        ("tags contains 'old'", False),
        ("nothing is empty", True),
        ("nothing is not empty", False),
        ("note not empty", True),
        ("tags is empty", False),
        ("where is not empty", True),
        ("bought < '2024-07-01'", True),
        ("bought = '2024-06-01'", True),
        ("at > '2024-06-01T09:59+08:00'", True),
        ("at = '2024-06-01T10:00:00+08:00'", True),
        ("amount > 1000 and status = 'in_warranty'", True),
        ("amount > 5000 or status = 'x'", False),
        ("not amount > 5000", True),
        ("NOT (amount > 5000 OR tags contains 'vip')", False),
        ("amount > 1 and (status = 'x' or note contains '漏')", True),
        ("status = 'it\\'s'", False),
        ("amount > 1 or amount > 2 and amount > 5000", True),  # and binds tighter than or
    ],
)
def test_conditions_evaluate_over_field_values(source, expected):
    assert parse(source).evaluate(VALUES) is expected


@pytest.mark.parametrize(
    "source, expected",
    [
        ("nothing = 1", False),
        ("nothing != 1", True),
        ("nothing < 1", False),
        ("nothing > 1", False),
        ("nothing in [1]", False),
        ("nothing contains 'x'", False),
        ("nothing = nothing", True),
    ],
)
def test_an_empty_field_equals_only_emptiness_and_orders_with_nothing(source, expected):
    assert parse(source).evaluate(VALUES) is expected


@pytest.mark.parametrize(
    "source, message",
    [
        ("amount = 'lots'", "cannot compare number with text"),
        ("status > 3", "cannot compare text with number"),
        ("tags = 'vip'", "a list can only be tested"),
        ("amount contains '1'", "`contains` needs"),
        ("status in 'abc'", "`in` needs"),
        ("bought < 'soon'", "'soon' is not a date"),
        ("at > '2024-06-01T09:59'", "with its time zone"),
        ("where = 1", "a location can only be tested"),
    ],
)
def test_kind_mismatches_raise_a_clear_error_rather_than_choose_a_branch(source, message):
    with pytest.raises(ConditionError) as error:
        parse(source).evaluate(VALUES)
    assert message in error.value.message and source in error.value.message


@pytest.mark.parametrize(
    "source, message, position",
    [
        ("amount >", "expected a field, a number, 'text' or a [list], found the end", 8),
        ("amount 5", "expected a comparison", 7),
        ("(amount > 5", "expected `)`, found the end", 11),
        ("amount > 5)", "expected `and`, `or` or the end, found ')'", 10),
        ("status = 'open", "an unclosed quote", 9),
        ("amount @ 5", "unexpected character '@'", 7),
        ("amount is full", "expected `empty`, found 'full'", 10),
        ("status in [1 2]", "expected `,` or `]` in the list, found '2'", 13),
        ("and = 1", "expected a field", 0),
        ("", "cannot be empty", 0),
        ("a = 1 and", "found the end", 9),
    ],
)
def test_parse_errors_say_what_was_expected_and_where(source, message, position):
    with pytest.raises(ParseError) as error:
        parse(source)
    assert message in error.value.message
    assert error.value.details["position"] == position
    if source:
        assert f"column {position + 1}" in error.value.message


def test_fields_named_in_a_condition_are_known_without_evaluating():
    assert parse("a = 1 or not (b in [1]) and c is empty").fields == {"a", "b", "c"}


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(ParseError, match="nest at most"):
        parse("(" * 500 + "a = 1" + ")" * 500)
    with pytest.raises(ParseError, match="at most"):
        parse("not " * 3000 + "a = 1")


@given(st.text(max_size=300))
def test_arbitrary_text_either_parses_or_raises_a_parse_error(text):
    try:
        parse(text)
    except ParseError as error:
        assert 0 <= error.details["position"] <= len(text)


PIECES = st.sampled_from(
    [
        "amount",
        "status",
        "tags",
        "nothing",
        "(",
        ")",
        "[",
        "]",
        ",",
        "and",
        "or",
        "not",
        "in",
        "contains",
        "is",
        "empty",
        "=",
        "!=",
        "≠",
        "<",
        "≤",
        ">=",
        "1",
        "-2.5",
        "'x'",
        '"vip"',
        "'2024-06-01'",
        " ",
        "@",
        "'",
    ]
)


@settings(max_examples=300)
@given(st.lists(PIECES, max_size=25).map(" ".join))
def test_token_soup_parses_or_fails_cleanly_and_evaluates_to_a_bool_or_a_condition_error(text):
    try:
        expression = parse(text)
    except ParseError:
        return
    try:
        assert expression.evaluate(VALUES) in (True, False)
    except ConditionError:
        pass
