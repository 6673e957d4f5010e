from datetime import datetime, timezone
from uuid import uuid4

import pytest

from shared.contracts import CONTRACTS, ContractError, validate_envelope
from shared.envelope import Envelope, event_id
from shared.schema import contracts_json_schema


def envelope(type_="ticket.created", data=None):
    return Envelope(id=uuid4(), source="scrm/intake", type=type_, subject=uuid4(),
                    time=datetime.now(timezone.utc), tenant="acme", sequence=7,
                    data=data if data is not None else {
                        "channel": "h5", "submission_id": "s1", "description": "漏水",
                        "customer": {"name": "张三", "phone": "13800138000", "address": "上海"}})


def test_an_envelope_survives_json_with_every_attribute():
    e = envelope()
    back = Envelope.from_json(e.to_json())
    assert back == e
    raw = e.to_dict()
    assert raw["specversion"] == "1.0" and raw["dataschema"] == "urn:scrm:ticket.created:v1"


def test_event_ids_are_deterministic():
    a = uuid4()
    assert event_id(a, 1) == event_id(a, 1) != event_id(a, 2)


def test_valid_data_passes_and_invalid_data_names_the_field():
    assert validate_envelope(envelope()) is not None
    with pytest.raises(ContractError) as error:
        validate_envelope(envelope(data={"channel": "h5"}))
    assert "customer" in error.value.messages


def test_unknown_types_are_refused():
    with pytest.raises(ContractError):
        validate_envelope(envelope(type_="ticket.teleported"))


def test_old_versions_are_upcast_on_read(monkeypatch):
    from dataclasses import replace

    old = CONTRACTS["notify.delivery_made"]
    v2 = replace(old, version=2, upcasters={1: lambda d: {"delivery_id": d["delivery_id"], "channel": d["channel"], "recipient": d["to"]}})
    monkeypatch.setitem(CONTRACTS, "notify.delivery_made", v2)
    e = envelope("notify.delivery_made", {"delivery_id": str(uuid4()), "channel": "sms", "to": "138"})
    upcast = validate_envelope(e)
    assert upcast.schema_version == 2 and upcast.data["recipient"] == "138"


def test_the_asyncapi_document_lists_every_contract_on_its_topic():
    doc = contracts_json_schema()
    assert set(doc["components"]["messages"]) == set(CONTRACTS)
    assert set(doc["channels"]) == {"scrm.intake", "scrm.workflow", "scrm.settlement", "scrm.notify"}


def test_a_slice_takes_every_aggregate_exactly_once():
    from shared.transport import Slice

    ids = [uuid4() for _ in range(300)]
    parts = [Slice.parse(f"{k}/3") for k in range(3)]
    assert sorted(sum(([i for i in ids if p.takes(i)] for p in parts), [])) == sorted(ids)
    assert all(any(p.takes(i) for p in parts) for i in ids)
    assert Slice().stream("intake") == "intake" and parts[1].stream("intake") == "intake#1/3"
    with pytest.raises(ValueError):
        Slice.parse("3/3")
