"""Every log line is one JSON object carrying the request's correlation id, tenant and ticket."""

from __future__ import annotations

import json
import logging
from uuid import uuid4

import pytest
import structlog
from flask import request

from shared import correlation, web
from shared.envelope import Envelope
from shared.identity.guard import Identity, public
from shared.identity.tokens import KeySet
from tests.support.logs import captured_logs


@pytest.fixture
def log_lines():
    with captured_logs("test-web") as lines:
        yield lines


@pytest.fixture
def client():
    app = web.create_app("test", "test", Identity(KeySet.generate().public(), lambda tenant: None))

    @app.get("/v1/tenants/<tenant>/tickets/<uuid:ticket_id>/trouble")
    @public
    def trouble(tenant, ticket_id):
        structlog.get_logger().info("looking.into", detail="铭牌")
        logging.getLogger("some.library").warning("the library %s", "complains")
        raise RuntimeError("a bug")

    @app.after_request
    def show_what_the_access_log_reads(response):
        response.headers["X-Environ"] = json.dumps({k: v for k, v in request.environ.items() if k.startswith("scrm.")})
        return response

    return app.test_client()


def test_a_requests_lines_from_every_source_carry_its_correlation_id_tenant_and_ticket(client, log_lines):
    ticket = uuid4()
    answer = client.get(f"/v1/tenants/acme/tickets/{ticket}/trouble", headers={correlation.HEADER: "req-42"})
    assert answer.status_code == 500 and answer.headers[correlation.HEADER] == "req-42"
    lines = {line["event"]: line for line in log_lines()}
    for event in ("looking.into", "the library complains", "unhandled error"):
        assert lines[event]["correlation_id"] == "req-42", lines[event]
        assert (lines[event]["tenant"], lines[event]["ticket_id"]) == ("acme", str(ticket))
        assert lines[event]["role"] == "test-web" and lines[event]["timestamp"]
    assert lines["looking.into"]["detail"] == "铭牌" and lines["looking.into"]["level"] == "info"
    assert (lines["the library complains"]["logger"], lines["the library complains"]["level"]) == (
        "some.library",
        "warning",
    )
    assert "RuntimeError: a bug" in lines["unhandled error"]["exception"]


@pytest.mark.parametrize("offered", [None, "", "x" * 129, "两个字", "a b", 'a"b', "<script>"])
def test_a_missing_or_misshapen_correlation_id_is_replaced_by_a_new_one(client, offered):
    headers = {correlation.HEADER: offered} if offered is not None else {}
    given = client.get("/healthz", headers=headers).headers[correlation.HEADER]
    assert given != offered and len(given) == 36  # a UUID
    assert client.get("/healthz").headers[correlation.HEADER] != given


def test_a_well_shaped_correlation_id_is_kept_on_every_answer(client):
    for path, status in (("/healthz", 200), ("/nowhere", 404), ("/v1/tenants/ACME!/tickets", 404)):
        answer = client.get(path, headers={correlation.HEADER: "trace-0af7651916cd43dd8448eb211c80319c"})
        assert (answer.status_code, answer.headers[correlation.HEADER]) == (
            status,
            "trace-0af7651916cd43dd8448eb211c80319c",
        )


def test_after_a_request_nothing_is_left_bound(client, log_lines):
    client.get("/healthz", headers={correlation.HEADER: "req-1"})
    structlog.get_logger().info("later")
    (line,) = [line for line in log_lines() if line["event"] == "later"]
    assert not {"correlation_id", "tenant", "ticket_id"} & set(line)
    assert correlation.current() is None


def test_an_event_being_followed_names_its_correlation_id_tenant_and_ticket(log_lines):
    ticket = uuid4()
    envelope = Envelope(
        id=uuid4(),
        source="scrm/intake",
        type="ticket.created",
        subject=ticket,
        time=None,
        tenant="acme",
        data={},
        correlation_id="req-7",
    )
    correlation.follow(envelope)
    structlog.get_logger().info("following")
    correlation.follow(None)
    structlog.get_logger().info("done")
    following, done = [line for line in log_lines() if line["event"] in ("following", "done")]
    assert (following["correlation_id"], following["tenant"], following["ticket_id"]) == ("req-7", "acme", str(ticket))
    assert not {"correlation_id", "tenant", "ticket_id"} & set(done)


def test_a_path_that_is_no_tenant_id_names_no_tenant(client):
    """What the access log reads (shared/logs.py ENVIRON_KEYS): a tenant of the one shape, or none."""
    ticket = uuid4()
    bad = client.get(f"/v1/tenants/ACME!/tickets/{ticket}/trouble", headers={correlation.HEADER: "req-2"})
    good = client.get(f"/v1/tenants/acme/tickets/{ticket}/trouble", headers={correlation.HEADER: "req-3"})
    assert bad.status_code == 404 and json.loads(bad.headers["X-Environ"]) == {
        "scrm.correlation_id": "req-2",
        "scrm.ticket_id": str(ticket),
    }
    assert json.loads(good.headers["X-Environ"]) == {
        "scrm.correlation_id": "req-3",
        "scrm.tenant": "acme",
        "scrm.ticket_id": str(ticket),
    }
