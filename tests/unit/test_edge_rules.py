"""The rules every HTTP edge shares (no I/O): what a tenant id looks like, how request JSON is read,
and the bounds of quantities and amounts, down to the public contract of recorded items."""

from __future__ import annotations

import json
from datetime import datetime, timezone, UTC
from decimal import Decimal
from uuid import uuid4

import pytest

from shared.contracts import ContractError, validate_envelope
from shared.envelope import Envelope
from shared.jsonbody import MAX_DEPTH, Unreadable, loads
from shared.numbers import amount_problem, places, quantity_problem, to_minor_unit
from shared.tenants import is_tenant_id


# --- tenant ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["acme", "tenant-a", "t1", "a_b-c", "a" * 63])
def test_tenant_ids_of_the_one_shape(text):
    assert is_tenant_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "acme\n",
        "tenant-a\n",
        "a" * 64,
        "a" * 3800,
        "a",
        "",
        "Acme",
        "-acme",
        "ac me",
        "acme\r",
        "\nacme",
        "ａｃｍｅ",
        "acme/x",
    ],
)
def test_anything_else_is_no_tenant_id(text):
    assert not is_tenant_id(text)


# --- request JSON ------------------------------------------------------------------------------


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_json_as_deep_as_the_bound_is_read_and_one_level_more_is_refused():
    assert loads(nested(MAX_DEPTH)) is not None
    assert loads(json.dumps({"a": [{"b": [1]}]})) == {"a": [{"b": [1]}]}
    for too_deep in (nested(MAX_DEPTH + 1), nested(3000), '{"a":' * 3000 + "1" + "}" * 3000):
        with pytest.raises(Unreadable, match=f"deeper than {MAX_DEPTH} levels"):
            loads(too_deep)


@pytest.mark.parametrize(
    "raw", ['"\\ud800"', '{"name": "a\\udfffb"}', '{"\\ud800": 1}', '[["x", "\\udc00"]]', b'{"name": "\xed\xa0\x80"}']
)  # as an escape, as a key, nested, as raw bytes
def test_a_lone_surrogate_is_refused(raw):
    with pytest.raises(Unreadable, match="lone UTF-16 surrogate"):
        loads(raw)


def test_bytes_that_are_no_character_are_refused():
    with pytest.raises(Unreadable, match="not text"):
        loads(b'{"name": "\xff\xfe"}')


def test_a_surrogate_pair_is_a_character_like_any_other():
    assert loads('{"name": "\\ud83d\\ude00张三"}') == {"name": "😀张三"}


@pytest.mark.parametrize("raw", ["NaN", "[Infinity]", '{"a": -Infinity}', "1E+999999999", "[-1e400]"])
def test_numbers_nothing_can_compute_with_are_refused(raw):
    with pytest.raises(Unreadable):
        loads(raw)


def test_what_is_not_json_stays_a_value_error():
    with pytest.raises(ValueError):
        loads("{'a': 1}")


# --- quantities and amounts --------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, count", [("1.50", 1), ("1E-40", 40), ("0.000", 0), ("1E+2", 0), ("-0.10", 1), ("1E-999999999", 999999999)]
)
def test_places_count_the_digits_after_the_point_that_matter(number, count):
    assert places(Decimal(number)) == count


@pytest.mark.parametrize("quantity", ["1", "0.001", "1000000", "2.500"])
def test_quantities_within_bounds(quantity):
    assert quantity_problem(Decimal(quantity)) is None


@pytest.mark.parametrize(
    "quantity", ["0", "-1", "1E+40", "1E+999999999", "1000000.001", "0.0001", "1E-999999999", "NaN", "Infinity"]
)
def test_quantities_out_of_bounds_say_the_bounds(quantity):
    assert quantity_problem(Decimal(quantity)) == (
        "must be more than 0 and at most 1,000,000, with at most 3 decimal places"
    )


@pytest.mark.parametrize(
    "amount, currency",
    [("12.5", "CNY"), ("-1000000000000", "CNY"), ("1000000000000", "CNY"), ("1200", "JPY"), ("1.234", "KWD")],
)
def test_amounts_within_bounds(amount, currency):
    assert amount_problem(Decimal(amount), currency) is None


@pytest.mark.parametrize(
    "amount, currency",
    [
        ("1e30", "CNY"),
        ("1E+999999999", "CNY"),
        ("-1E+999999999", "CNY"),
        ("1" * 27, "CNY"),
        ("1.005", "CNY"),
        ("1000000000000.01", "CNY"),
        ("0.5", "JPY"),
        ("NaN", "CNY"),
    ],
)
def test_amounts_out_of_bounds_say_the_bounds(amount, currency):
    problem = amount_problem(Decimal(amount), currency)
    assert problem is not None and "within ±1,000,000,000,000" in problem and currency in problem


def test_amounts_take_their_currencys_minor_unit():
    assert to_minor_unit(Decimal("12.5"), "CNY") == Decimal("12.50")
    assert str(to_minor_unit(Decimal("1E+3"), "JPY")) == "1000"
    assert str(to_minor_unit(Decimal("-1000000000000"), "KWD")) == "-1000000000000.000"


@pytest.mark.parametrize(
    "quantity, fits",
    [("2", True), ("0.125", True), ("1E+40", False), ("1E+999999999", False), ("0", False), ("0.0001", False)],
)
def test_the_public_contract_of_recorded_items_carries_only_quantities_within_bounds(quantity, fits):
    envelope = Envelope(
        id=uuid4(),
        source="scrm/workflow",
        type="ticket.parts_consumed",
        subject=uuid4(),
        time=datetime.now(UTC),
        tenant="acme",
        sequence=1,
        data={"by": "technician-1", "items": [{"code": "P-VALVE", "quantity": quantity}]},
    )
    if fits:
        assert validate_envelope(envelope) is envelope
    else:
        with pytest.raises(ContractError, match="at most 1,000,000"):
            validate_envelope(envelope)


@pytest.mark.parametrize(
    "command",
    [
        ["workflow", "templates", "load-examples"],
        ["tenant", "api-key", "list"],
        ["tenant", "create", "--name", "x", "--admin", "a"],
    ],
)
def test_the_shell_takes_only_tenant_ids_of_the_one_shape(command, tmp_path):
    from click.testing import CliRunner

    from services.cli import cli

    refused = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *command, "acme\n"])
    assert refused.exit_code == 2 and "2 to 63 of a-z" in refused.output
    assert not any(tmp_path.iterdir())  # no store was opened
