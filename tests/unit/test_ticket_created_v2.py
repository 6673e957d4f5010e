"""ticket.created v2: channel identities, the routed template, and v1 read as v2."""

from datetime import datetime, timezone, UTC
from uuid import uuid4

import orjson
import pytest

from shared.contracts import ContractError, ticket_number, validate_envelope
from shared.envelope import Envelope


def test_a_ticket_number_is_short_readable_and_always_the_same_for_a_ticket():
    ids = [uuid4() for _ in range(2000)]
    numbers = {ticket_number(i) for i in ids}
    assert len(numbers) == len(ids)
    n = ticket_number(ids[0])
    assert n == ticket_number(ids[0]) and len(n) == 11 and n[5] == "-"
    assert set(n.replace("-", "")) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def created(data, version=2):
    return Envelope(
        id=uuid4(),
        source="scrm/intake",
        type="ticket.created",
        subject=uuid4(),
        time=datetime.now(UTC),
        tenant="acme",
        data=data,
        schema_version=version,
    )


V1 = {
    "channel": "h5",
    "submission_id": "s1",
    "description": "漏水",
    "customer": {"name": "张三", "phone": "13800138000", "address": "上海"},
}


def test_ticket_created_v2_needs_an_identity_but_no_name_phone_or_address():
    chat = {
        "channel": "wecom",
        "submission_id": "42",
        "description": "空调报修",
        "template": "repair",
        "route": {"by": "keyword", "key": "报修"},
        "customer": {"wecom_userid": "zhangsan"},
    }
    assert validate_envelope(created(chat)).data is chat
    for customer in ({}, {"name": "张三"}, {"phone": "not a phone"}, {"openid": ""}):
        with pytest.raises(ContractError):
            validate_envelope(created({**chat, "customer": customer}))
    with pytest.raises(ContractError):
        validate_envelope(created({k: v for k, v in chat.items() if k != "template"}))


def test_ticket_created_v1_is_upcast_to_the_default_template():
    upcast = validate_envelope(created(V1, version=1))
    assert upcast.schema_version == 2
    assert upcast.data == {**V1, "template": "default", "route": {"by": "default"}}


def test_a_submission_stored_before_routing_is_read_with_the_default_template():
    from eventsourcing.persistence import StoredEvent

    from services.intake.application import IntakeApplication
    from services.intake.domain import Submission

    app = IntakeApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    new = Submission(
        tenant="acme",
        channel="h5",
        submission_id="s1",
        customer=V1["customer"],
        description="漏水",
        template="repair",
        route={"by": "keyword", "key": "报修"},
    )
    stored = app.mapper.to_stored_event(new.collect_events()[0])
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 4
    del state["template"], state["route"], state["values"], state["customer_id"], state["region"], state["flags"]
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state))
    event = app.mapper.to_domain_event(v1)
    assert (event.template, event.route, event.values) == ("default", {"by": "default"}, {})
    assert (event.customer_id, event.region) == (None, None)  # v2 -> v3: before forms and the customer directory
    assert event.flags == []  # v3 -> v4: before customers had flags
