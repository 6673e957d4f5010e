from datetime import date, datetime, timezone, UTC
from decimal import Decimal

import pytest

from shared.errors import Invalid, NotFound
from shared.formfields.fields import Field, field_problems
from services.workflow.templates.presets import PRESETS, preset
from shared.formfields.forms import clean_value, dump_values, validate_values
from shared.formfields.values import Location

FORM = (
    Field("name", "姓名", "text", required=True, max_length=5),
    Field("amount", "金额", "money", minimum=Decimal("0")),
    Field("count", "数量", "number", default="1"),
    Field("color", "颜色", "single_select", options=("red", "blue")),
    Field("tags", "标签", "multi_select", options=("a", "b", "c"), max_length=2),
    Field("day", "日期", "date"),
    Field("at", "时间", "datetime"),
    Field("phone", "电话", "phone"),
    Field("photos", "照片", "image", min_length=1),
    Field("where", "位置", "location"),
    Field("sn", "序列号", "device_serial"),
    Field("code", "编码", "text", pattern=r"[A-Z]{2}\d+"),
)


@pytest.mark.parametrize(
    "field_key, raw, cleaned",
    [
        ("amount", "12.5", Decimal("12.50")),
        ("amount", 3, Decimal("3.00")),
        ("count", 1.25, Decimal("1.25")),
        ("color", "red", "red"),
        ("tags", ["a", "c"], ("a", "c")),
        ("day", "2024-06-30", date(2024, 6, 30)),
        ("at", "2024-06-30T08:00:00+08:00", datetime(2024, 6, 30, 0, 0, tzinfo=UTC)),
        ("phone", "+86 138-0013-8000", "+8613800138000"),
        ("photos", ["att-1"], ("att-1",)),
        ("where", {"lat": "31.2", "lng": 121.5, "address": " 上海 "}, Location(31.2, 121.5, "上海")),
        (
            "where",
            {"address": "上海市徐汇区", "lat": "", "lng": None},
            Location(None, None, "上海市徐汇区"),
        ),  # no coordinates
        ("sn", "ab-1234", "AB-1234"),
        ("code", "CN123", "CN123"),
        ("name", "  张三 ", "张三"),
        ("name", "", None),
    ],
)
def test_values_are_cleaned_to_their_types(field_key, raw, cleaned):
    field = next(f for f in FORM if f.key == field_key)
    assert clean_value(field, raw) == cleaned


@pytest.mark.parametrize(
    "field_key, raw, message",
    [
        ("amount", "1.005", "at most 2 decimal places"),
        ("amount", "1e30", "within ±1,000,000,000,000 CNY"),
        ("amount", "1E+999999999", "within ±1,000,000,000,000 CNY"),
        ("amount", "1" * 27, "within ±1,000,000,000,000 CNY"),
        ("count", "1E+40", "within ±1,000,000,000,000,000"),
        ("count", "1E-40", "at most 10 decimal places"),
        ("amount", "-1", "at least 0"),
        ("amount", "abc", "not a number"),
        ("count", True, "must be a number"),
        ("count", "NaN", "finite"),
        ("color", "green", "not one of the options"),
        ("tags", ["a", "x"], "'x' not among the options"),
        ("tags", ["a", "b", "c"], "at most 2 items"),
        ("tags", ["a", "a"], "repeat"),
        ("tags", "a", "must be a list"),
        ("day", "30/06/2024", "not a date"),
        ("at", "2024-06-30T08:00:00", "needs a time zone"),
        ("phone", "call me", "not a phone number"),
        ("where", {"lat": 91, "lng": 0}, "lat must lie"),
        ("where", {"lat": 1}, "must have lat and lng"),
        ("where", {"address": "  "}, "must have lat and lng, or an address"),
        ("sn", "a b", "not a serial number"),
        ("code", "cn123", "does not match the pattern"),
        ("name", "张三李四王五", "at most 5 characters"),
        ("name", 12, "must be text"),
    ],
)
def test_bad_values_say_which_field_and_why(field_key, raw, message):
    field = next(f for f in FORM if f.key == field_key)
    with pytest.raises(Invalid) as error:
        clean_value(field, raw)
    assert message in error.value.message and field.label in error.value.message
    assert message in error.value.details["errors"][field_key]


def test_a_full_form_gets_defaults_and_reports_every_bad_field_at_once():
    assert validate_values(FORM, {"name": "张三"})["count"] == Decimal("1")
    with pytest.raises(Invalid) as error:
        validate_values(FORM, {"amount": "x", "nobody": 1})
    assert set(error.value.details["errors"]) == {"name", "amount", "nobody"}
    assert error.value.details["errors"]["name"] == "is required"
    assert "3 field(s) are not valid" in error.value.message and "nobody" in error.value.message


def test_a_partial_form_touches_only_what_it_names():
    assert validate_values(FORM, {"color": "blue"}, partial=True) == {"color": "blue"}
    assert validate_values(FORM, {"color": None}, partial=True) == {"color": None}


def test_dumped_values_clean_back_to_themselves():
    values = validate_values(
        FORM,
        {
            "name": "李",
            "amount": "9.9",
            "tags": ["b"],
            "day": "2024-01-02",
            "at": "2024-01-02T03:04:05+08:00",
            "where": {"lat": 1, "lng": 2},
        },
    )
    assert validate_values(FORM, dump_values(values)) == values
    addressed = validate_values(FORM, {"name": "李", "where": {"address": "上海"}})
    assert dump_values(addressed)["where"] == {"address": "上海"}
    assert validate_values(FORM, dump_values(addressed)) == addressed


def test_field_definitions_are_checked():
    assert field_problems(Field("Bad Key", "x", "text")) == [
        "field 'Bad Key': a key is lower-case letters, digits and _, starting with a letter"
    ]
    assert "is a word of the condition language" in field_problems(Field("empty", "x", "text"))[0]
    assert "unknown type 'blob'" in field_problems(Field("x", "x", "blob"))[0]
    assert field_problems(Field("x", "x", "single_select")) == ["field 'x': a select needs options"]
    assert "only selects have options" in field_problems(Field("x", "x", "text", options=("a",)))[0]
    assert "minimum 5 is above the maximum 2" in field_problems(Field("x", "x", "text", min_length=5, max_length=2))[0]
    assert "not a regular expression" in field_problems(Field("x", "x", "text", pattern="("))[0]


def test_fields_round_trip_through_json():
    for field in FORM + tuple(PRESETS.values()):
        assert Field.from_dict(field.to_dict()) == field
    with pytest.raises(Invalid, match="unknown settings: colour"):
        Field.from_dict({"key": "x", "label": "x", "type": "text", "colour": "red"})


def test_presets_are_valid_and_can_be_changed():
    assert all(field_problems(f) == [] for f in PRESETS.values())
    assert preset("contact_phone", required=False).required is False
    assert PRESETS["contact_phone"].required is True
    with pytest.raises(NotFound):
        preset("shoe_size")


@pytest.mark.parametrize("bound", ["NaN", "Infinity", "-inf", "sNaN"])
def test_a_bound_nothing_compares_with_is_refused_when_the_field_is_read(bound):
    with pytest.raises(Invalid, match="is not a finite number"):
        Field.from_dict({"key": "count", "label": "数量", "type": "number", "minimum": bound})
