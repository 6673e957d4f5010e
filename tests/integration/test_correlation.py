"""One request's correlation id follows what it caused through every service: the envelopes each
publishes and the log lines each writes while it handles them."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID, uuid4

from shared import correlation
from shared.persistence import outbox_reader
from shared.settings import SERVICES

from tests.integration.notify_desk import NotifyDesk
from tests.integration.test_flow_in_process import CUSTOMER, FINANCE, STAFF, platform  # the fixture
from tests.support.providers import FakeWeCom
from tests.support.logs import captured_logs

SUBMITTED, CLOSED = "h5-submission-1", "close-request-1"


def test_a_submissions_correlation_id_reaches_every_service_and_the_close_requests_its_own(platform, settings):
    with captured_logs("test-platform") as lines:
        created = platform.intake.post(
            "/v1/tenants/acme/h5/submissions",
            headers={**platform.intake._headers, correlation.HEADER: SUBMITTED},
            json={"submission_id": "s-1", "customer": CUSTOMER, "description": "空调不制冷"},
        )
        assert created.status_code == 201 and created.headers[correlation.HEADER] == SUBMITTED
        ticket = created.json["ticket_id"]
        platform.drain()
        base = f"/v1/tenants/acme/tickets/{ticket}"
        labour = platform.workflow.post(
            base + "/labour", json={"items": [{"code": "L-INSTALL", "quantity": "1"}]}, headers=STAFF
        )
        assert labour.status_code == 201
        given = labour.headers[correlation.HEADER]  # none offered: one made for it
        closed = platform.workflow.post(base + "/close", headers={**STAFF, correlation.HEADER: CLOSED})
        assert closed.status_code == 200
        platform.drain()
        logged = lines()

    published: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # service -> type -> ids
    for service in SERVICES:
        reader = outbox_reader(service, settings)
        try:
            for envelope in reader.read(0, 10_000):
                if envelope.subject == UUID(ticket):
                    published[service][envelope.type].add(envelope.correlation_id)
        finally:
            reader.close()
    assert published["intake"]["ticket.created"] == {SUBMITTED}
    assert published["workflow"]["ticket.opened"] == {SUBMITTED}
    assert published["notify"]["notify.delivery_requested"] == {SUBMITTED, CLOSED}  # accepted, …, closed
    assert published["workflow"]["ticket.closed"] == {CLOSED}
    assert published["settlement"]["settlement.statement_issued"] == {CLOSED}

    handled = defaultdict(set)  # follower -> correlation ids of the ticket's events it logged
    for line in logged:
        if line["event"] == "follower.event" and line.get("ticket_id") == ticket:
            assert line["tenant"] == "acme"
            handled[line["follower"]].add(line["correlation_id"])
    for follower in ("workflow", "notify", "settlement"):
        assert {SUBMITTED, CLOSED} <= handled[follower] <= {SUBMITTED, given, CLOSED}, follower


def test_what_notifys_sender_records_is_published_under_the_requests_correlation_id(settings, monkeypatch):
    with FakeWeCom() as wecom:
        desk = NotifyDesk(settings, monkeypatch, wecom=wecom)
        try:
            desk.provider("wecom", corp_id="ww-corp", agent_id="1000002", secret="corp-secret-0001")
            uncorrelated = desk.opened("t-1")
            correlated = desk.opened("t-2", correlation_id=SUBMITTED)
            assert desk.send() == 2
            broken = uuid4()  # a channel's bug is logged about the delivery it was sending
            monkeypatch.setattr(desk.sender.channels["wecom"], "send", _raise)
            desk.opened("t-3", broken, correlation_id=CLOSED)
            with captured_logs("test-notify", "INFO") as lines:
                desk.send(rounds=1)
                failed = [line for line in lines() if line["event"] == "sender.channel_failed"]
        finally:
            desk.close()
    reader = outbox_reader("notify", settings)
    try:
        made = {e.subject: e.correlation_id for e in reader.read(0, 1000) if e.type == "notify.delivery_made"}
    finally:
        reader.close()
    assert made == {correlated: SUBMITTED, uncorrelated: None}
    assert {(line.get("correlation_id"), line.get("ticket_id")) for line in failed} == {(CLOSED, str(broken))}


def _raise(*_):
    raise RuntimeError("a bug in the channel")
