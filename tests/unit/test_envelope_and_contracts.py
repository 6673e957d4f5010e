from dataclasses import replace
from datetime import datetime, timezone, UTC
from uuid import UUID, uuid4

import pytest

from shared.contracts import CONTRACTS, ContractError, validate_envelope
from shared.envelope import Envelope, event_id
from shared.asyncapi import asyncapi


def envelope(type_="ticket.created", data=None):
    return Envelope(
        id=uuid4(),
        source="scrm/intake",
        type=type_,
        subject=uuid4(),
        time=datetime.now(UTC),
        tenant="acme",
        sequence=7,
        data=data
        if data is not None
        else {
            "channel": "h5",
            "submission_id": "s1",
            "description": "漏水",
            "customer": {"name": "张三", "phone": "13800138000", "address": "上海"},
        },
    )


def test_an_envelope_survives_json_with_every_attribute():
    e = replace(envelope(), correlation_id="req-1")
    back = Envelope.from_json(e.to_json())
    assert back == e
    raw = e.to_dict()
    assert raw["specversion"] == "1.0" and raw["dataschema"] == "urn:scrm:ticket.created:v1"
    assert raw["sequence"] == "00000000000000000007" and raw["correlationid"] == "req-1"


def test_an_envelope_survives_kafka_binary_mode_with_every_attribute():
    e = replace(envelope(), correlation_id="req-1")
    headers = e.kafka_headers()
    assert ("content-type", b"application/json") in headers
    assert dict(headers)["ce_id"] == str(e.id).encode() and e.kafka_key() == str(e.subject).encode()
    assert Envelope.from_kafka(headers, e.data_json()) == e


def test_a_sequence_orders_as_text_as_it_does_as_a_number():
    texts = [envelope_at(n).to_dict()["sequence"] for n in (9, 10, 100, 2**62)]
    assert texts == sorted(texts)


def envelope_at(sequence):
    return replace(envelope(), sequence=sequence)


def test_event_ids_are_deterministic_and_differ_between_services():
    a = uuid4()
    assert event_id("scrm/intake", a, 1) == event_id("scrm/intake", a, 1) != event_id("scrm/intake", a, 2)
    # intake's submission and workflow's ticket share the ticket id: their first events are two events
    assert event_id("scrm/intake", a, 1) != event_id("scrm/workflow", a, 1)


def test_event_ids_stay_what_they_were_when_first_published():
    """Computed again for an event already published (a replay, the own-log reader), the id must not change:
    the uuid5 of the source, the aggregate id's and version's bytes (the value as the first implementation,
    `uuid.UUID(bytes=..., version=5)`, computed it)."""
    ticket = UUID("0f6a2d93-5c1e-4b87-a3d4-9e2c7b1f6a58")
    assert event_id("scrm/workflow", ticket, 7) == UUID("42ede288-e329-5e64-beba-3d4bb280293d")


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
    v2 = replace(
        old,
        version=2,
        upcasters={1: lambda d: {"delivery_id": d["delivery_id"], "channel": d["channel"], "recipient": d["to"]}},
    )
    monkeypatch.setitem(CONTRACTS, "notify.delivery_made", v2)
    e = envelope("notify.delivery_made", {"delivery_id": str(uuid4()), "channel": "sms", "to": "138"})
    upcast = validate_envelope(e)
    assert upcast.schema_version == 2 and upcast.data["recipient"] == "138"


def test_the_asyncapi_document_is_valid_asyncapi_2_6():
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "fixtures" / "asyncapi-2.6.0.schema.json").read_text())
    doc = asyncapi()
    jsonschema.Draft7Validator(schema).validate(doc)
    assert "nullable" not in json.dumps(doc)  # plain JSON Schema, not OpenAPI's dialect


def test_every_reference_of_the_asyncapi_document_resolves():
    import json
    import re

    doc = asyncapi()
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(doc))):
        node = doc
        for part in ref.split("/"):
            node = node[part]  # KeyError: a dangling reference


def test_each_channel_carries_exactly_what_its_service_publishes():
    from services.intake.outbox import OUTBOX as INTAKE
    from services.notify.outbox import OUTBOX as NOTIFY
    from services.settlement.outbox import OUTBOX as SETTLEMENT
    from services.workflow.outbox import OUTBOX as WORKFLOW

    channels = asyncapi()["channels"]
    for outbox in (INTAKE, WORKFLOW, SETTLEMENT, NOTIFY):
        listed = {
            m["$ref"].rsplit("/", 1)[1] for m in channels[f"scrm.{outbox.service}"]["subscribe"]["message"]["oneOf"]
        }
        assert listed == outbox.types, outbox.service
    assert set(asyncapi()["components"]["messages"]) == set(CONTRACTS)


def test_each_message_says_what_its_subject_and_key_are_the_id_of():
    about_a_ticket = ("ticket.", "settlement.statement_", "notify.delivery_")
    for name, message in asyncapi()["components"]["messages"].items():
        key = message["bindings"]["kafka"]["key"]["description"]
        assert key.split(" (")[0] in message["headers"]["properties"]["ce_subject"]["description"]
        assert ("ticket's id" in key) == name.startswith(about_a_ticket), name
    assert asyncapi()["components"]["messages"]["customer.merged"]["bindings"]["kafka"]["key"]["description"] == (
        "The surviving customer's id (the envelope's subject), as text"
    )


def test_a_slice_takes_every_aggregate_exactly_once():
    from shared.slices import Slice

    ids = [uuid4() for _ in range(300)]
    parts = [Slice.parse(f"{k}/3") for k in range(3)]
    assert sorted(sum(([i for i in ids if p.takes(i)] for p in parts), [])) == sorted(ids)
    assert all(any(p.takes(i) for p in parts) for i in ids)
    assert Slice().stream("intake") == "intake" and parts[1].stream("intake") == "intake#1/3"
    with pytest.raises(ValueError):
        Slice.parse("3/3")
