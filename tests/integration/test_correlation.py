"""One request's correlation id follows what it caused through every service: the envelopes each
publishes and the log lines each writes while it handles them."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from shared import correlation
from shared.persistence import outbox_reader
from shared.settings import SERVICES

from tests.integration.test_flow_in_process import CUSTOMER, FINANCE, STAFF, platform  # the fixture
from tests.support.logs import captured_logs

SUBMITTED, CLOSED = "h5-submission-1", "close-request-1"


def test_a_submissions_correlation_id_reaches_every_service_and_the_close_requests_its_own(platform, settings):
    with captured_logs("test-platform") as lines:
        created = platform.intake.post("/v1/tenants/acme/h5/submissions", headers={
            **platform.intake._headers, correlation.HEADER: SUBMITTED},
            json={"submission_id": "s-1", "customer": CUSTOMER, "description": "空调不制冷"})
        assert created.status_code == 201 and created.headers[correlation.HEADER] == SUBMITTED
        ticket = created.json["ticket_id"]
        platform.drain()
        base = f"/v1/tenants/acme/tickets/{ticket}"
        labour = platform.workflow.post(base + "/labour", json={"items": [{"code": "L-INSTALL", "quantity": "1"}]},
                                        headers=STAFF)
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
