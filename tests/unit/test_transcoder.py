"""OrjsonTranscoder must behave exactly like eventsourcing's JSONTranscoder, only faster."""

from __future__ import annotations

import json
import math
from collections import OrderedDict, namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, UTC
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from shared.jsonable import JSONObject
from shared.transcoder import OrjsonTranscoder

ENV = {"PERSISTENCE_MODULE": "eventsourcing.popo", "TRANSCODER_TOPIC": "shared.transcoder:OrjsonTranscoder"}
CST = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Ref:  # a dataclass: orjson would serialise it natively if it ever saw it
    id: UUID
    amount: Decimal
    label: str


class RefAsDict(Transcoding):
    type = Ref
    name = "ref"

    def encode(self, obj: Ref) -> dict[str, Any]:
        return {"id": obj.id, "amount": obj.amount, "label": obj.label}

    def decode(self, data: dict[str, Any]) -> Ref:
        return Ref(**data)


class Colour(Enum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


class Kind(StrEnum):
    PART = "part"


Point = namedtuple("Point", "x y")


def make(cls: type[JSONTranscoder]) -> JSONTranscoder:
    transcoder = cls()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), RefAsDict()):
        transcoder.register(transcoding)
    return transcoder


def same(a: Any, b: Any) -> bool:
    """Equality that also compares Decimal exponents, datetime offsets and NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


U1, U2, U3 = uuid4(), uuid4(), uuid4()
VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    2**64 - 1,
    -(2**63),
    1.5,
    -0.0,
    1e-7,
    1e16,
    0.1,
    "",
    "acme",
    "处理中 ✓ 😀",
    'quote " backslash \\ newline \n nul \x00 \u2028',
    {},
    [],
    {"a": {}},
    [[]],
    U1,
    Decimal("1.10"),
    Decimal("-0.00"),
    Decimal("1E+3"),
    Decimal("NaN"),
    datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    datetime(2024, 5, 1, 12, 30, 0, 123456, tzinfo=CST),
    datetime(2024, 5, 1, 12, 30),
    {
        "ticket_id": U1,
        "tenant": "acme",
        "template_version": 1,
        "node": "处理中",
        "customer": {"name": "张三", "phone": "13800138000", "address": "上海市浦东新区世纪大道 100 号"},
        "timestamp": datetime.now(UTC),
        "originator_topic": "x:y",
    },
    {"a": [U1, {"b": [U2, {"c": U3, "d": [Decimal("2.50"), None]}]}]},
    [U1, [U2, [U3]]],
    Ref(U1, Decimal("9.90"), "标签"),
    {"refs": [Ref(U2, Decimal("0.10"), "x")], "nested": {"ref": Ref(U3, Decimal("1"), "")}},
    {"_type_": "uuid_hex", "_data_": U1.hex, "extra": 1},  # not a tag: three keys
    {"_type_": "uuid_hex"},
    {"_data_": "x", "other": "y"},
    'a tag as text: {"_type_": "uuid_hex", "_data_": "00"}',  # no key: the bytes' count of tags stays right
    {"serial": "1234567890123456789012", "at": datetime(2024, 5, 1, tzinfo=UTC)},  # 19 digits: the full walk
]
# Values json writes in a different shape: (value, what decoding gives back).
CONVERTED = [
    ((1, "a", U1), [1, "a", U1]),
    ({"t": (U1, (U2,))}, {"t": [U1, [U2]]}),
    (Point(1, U1), [1, U1]),
    (OrderedDict(a=U1), {"a": U1}),
    (Level.HIGH, 3),
    (Kind.PART, "part"),
    ({Kind.PART: 1}, {"part": 1}),
    (
        {1: "int", 1.5: "float", None: "none", False: "bool"},
        {"1": "int", "1.5": "float", "null": "none", "false": "bool"},
    ),
    (float("nan"), float("nan")),
    ([float("inf"), float("-inf")], [float("inf"), float("-inf")]),
    (2**64, 2**64),
    (-(2**63) - 1, -(2**63) - 1),
    ({"big": 10**30}, {"big": 10**30}),
]
ALL = [(v, v) for v in VALUES] + CONVERTED


def test_the_application_uses_it_with_the_standard_transcodings():
    app = Application(env=ENV)
    transcoder = app.mapper.transcoder
    assert isinstance(transcoder, OrjsonTranscoder)
    assert {"uuid_hex", "decimal_str", "datetime_iso"} <= set(transcoder.names)
    assert {UUID, Decimal, datetime} <= set(transcoder.types)


@pytest.mark.parametrize(("value", "expected"), ALL)
def test_round_trip(value, expected):
    transcoder = make(OrjsonTranscoder)
    assert same(transcoder.decode(transcoder.encode(value)), expected)


@pytest.mark.parametrize(("value", "expected"), ALL)
def test_cross_compatible_with_json_transcoder(value, expected):
    new, old = make(OrjsonTranscoder), make(JSONTranscoder)
    assert same(old.decode(new.encode(value)), expected)
    assert same(new.decode(old.encode(value)), expected)
    assert same(json.loads(new.encode(value)), json.loads(old.encode(value)))  # same document


def in_state(value: Any) -> dict[str, Any]:
    """`value` nested in an event's state, whose top level has registered values: the shape
    the fast path (top level only, proven enough) is for."""
    return {
        "timestamp": datetime(2024, 5, 1, tzinfo=UTC),
        "ticket_id": U1,
        "value": value,
        "progress": {"tokens": [{"node": "处理中", "value": value}]},
    }


@pytest.mark.parametrize(("value", "expected"), ALL)
def test_nested_in_an_event_state_it_round_trips_and_stays_compatible(value, expected):
    new, old = make(OrjsonTranscoder), make(JSONTranscoder)
    expected = in_state(expected)
    assert same(new.decode(new.encode(in_state(value))), expected)
    assert same(old.decode(new.encode(in_state(value))), expected)
    assert same(new.decode(old.encode(in_state(value))), expected)


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", Colour.RED, [datetime.now().date()]])
def test_an_unregistered_type_nested_in_an_event_state_raises(value):
    with pytest.raises(TranscodingNotRegisteredError):
        make(OrjsonTranscoder).encode(in_state(value))


def test_a_state_with_registered_values_only_at_its_top_is_not_walked(monkeypatch):
    transcoder, tagged = make(OrjsonTranscoder), []
    state = in_state({"path": ["处理中"], "made": 1, "region": None, "ok": True, "rate": 0.5})
    tag = OrjsonTranscoder._tag
    monkeypatch.setattr(OrjsonTranscoder, "_tag", lambda self, o: tagged.append(o) or tag(self, o))
    assert same(transcoder.decode(transcoder.encode(state)), state)
    assert tagged == [state["timestamp"], state["ticket_id"]]  # the top-level registered values, nothing nested


def test_a_flat_state_or_a_vouched_json_object_is_written_without_reading_it_back(monkeypatch):
    transcoder, read_back = make(OrjsonTranscoder), []
    loads = orjson.loads
    monkeypatch.setattr(orjson, "loads", lambda data: read_back.append(data) or loads(data))
    flat = {"timestamp": datetime(2024, 5, 1, tzinfo=UTC), "ticket_id": U1, "tenant": "acme", "n": 1, "r": None}
    statement = {"lines": [{"code": "P-FILTER", "net": "70.00", "priced": True}], "number": 1, "reverses": None}
    vouched = {**flat, "statement": JSONObject(statement)}
    written = [transcoder.encode(flat), transcoder.encode(vouched)]
    assert read_back == []
    transcoder.encode({**flat, "statement": statement})  # not vouched for: proven
    assert len(read_back) == 1
    for data, plain_dict in zip(written, (flat, {**flat, "statement": statement})):
        assert json.loads(data) == json.loads(make(JSONTranscoder).encode(plain_dict))  # the same document
        assert same(transcoder.decode(data), plain_dict)  # read back, a plain dict


@pytest.mark.parametrize("value", [float("nan"), Colour.RED, Level.HIGH, (U1,), OrderedDict(a=U1)])
def test_a_top_level_value_orjson_would_write_its_own_way_is_still_checked(value):
    new, old = make(OrjsonTranscoder), make(JSONTranscoder)
    state = {"timestamp": datetime(2024, 5, 1, tzinfo=UTC), "value": value}
    try:
        expected = old.decode(old.encode(state))
    except TranscodingNotRegisteredError:
        with pytest.raises(TranscodingNotRegisteredError):
            new.encode(state)
        return
    assert same(new.decode(new.encode(state)), expected)


def test_the_format_is_tagged_recursively_and_stays_utf8():
    data = make(OrjsonTranscoder).encode({"ref": Ref(U1, Decimal("1.10"), "张三")})
    assert "张三".encode() in data
    assert json.loads(data) == {
        "ref": {
            "_type_": "ref",
            "_data_": {
                "id": {"_type_": "uuid_hex", "_data_": U1.hex},
                "amount": {"_type_": "decimal_str", "_data_": "1.10"},
                "label": "张三",
            },
        }
    }


def test_a_registered_tuple_transcoding_is_ignored_like_json_does():
    class TupleAsList(Transcoding):
        type, name = tuple, "tuple"

        def encode(self, obj):
            return list(obj)

        def decode(self, data):
            return tuple(data)

    new, old = make(OrjsonTranscoder), make(JSONTranscoder)
    new.register(TupleAsList())
    old.register(TupleAsList())
    assert new.encode((1, U1)) == old.encode((1, U1)) == b'[1,{"_type_":"uuid_hex","_data_":"%s"}]' % U1.hex.encode()


@pytest.mark.parametrize(
    "value", [object(), {1, 2}, b"bytes", Colour.RED, {"deep": [Ref], "x": 1}, [datetime.now().date()]]
)
def test_an_unregistered_type_raises(value):
    with pytest.raises(TranscodingNotRegisteredError):
        make(OrjsonTranscoder).encode(value)
    with pytest.raises(TranscodingNotRegisteredError):
        make(JSONTranscoder).encode(value)


def test_a_uuid_is_not_serialised_natively_when_unregistered():
    with pytest.raises(TranscodingNotRegisteredError):
        OrjsonTranscoder().encode({"id": uuid4()})


def test_an_unknown_tag_raises_on_decode():
    with pytest.raises(TranscodingNotRegisteredError):
        make(OrjsonTranscoder).decode(b'{"a":{"_type_":"nope","_data_":1}}')


@pytest.mark.parametrize("value", [{(1, 2): "tuple key"}, {U1: "uuid key"}])
def test_bad_keys_raise_like_json(value):
    with pytest.raises(TypeError, match="keys must be str"):
        make(OrjsonTranscoder).encode(value)


def test_circular_references_raise_like_json():
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        make(OrjsonTranscoder).encode(loop)


def test_invalid_data_raises_like_json():
    with pytest.raises(json.JSONDecodeError):
        make(OrjsonTranscoder).decode(b"{not json")


def test_json_only_syntax_still_decodes():
    assert make(OrjsonTranscoder).decode(b'["\\ud800",1e400]') == ["\ud800", float("inf")]


class Ticket(Aggregate):
    @event("Registered")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.lines: list[dict[str, Any]] = []

    @event("LineAdded")
    def add_line(self, part_id: UUID, amount: Decimal, details: dict[str, Any]):
        self.lines.append({"part_id": part_id, "amount": amount, "details": details})


def test_an_aggregate_round_trips_through_the_application():
    app = Application(env=ENV)
    ticket = Ticket(tenant="acme")
    ticket.add_line(uuid4(), Decimal("12.50"), {"note": "外机异响", "by": uuid4(), "when": datetime.now(CST)})
    app.save(ticket)
    copy = app.repository.get(ticket.id)
    assert copy == ticket
    assert same(copy.lines, ticket.lines)


def test_property_round_trip_and_cross_compatibility():
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text()
        | st.uuids()
        | st.decimals()
        | st.datetimes(timezones=st.none() | st.timezones())
    )
    values = st.recursive(leaves, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)
    new, old = make(OrjsonTranscoder), make(JSONTranscoder)

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(values)
    def check(value):
        try:
            expected = old.decode(old.encode(value))
        except UnicodeEncodeError:  # lone surrogates: neither transcoder can write them
            with pytest.raises(UnicodeEncodeError):
                new.encode(value)
            return
        for given, wanted in ((value, expected), (in_state(value), in_state(expected))):
            assert same(new.decode(new.encode(given)), wanted)
            assert same(old.decode(new.encode(given)), wanted)
            assert same(new.decode(old.encode(given)), wanted)

    check()
