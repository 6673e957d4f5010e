"""The thin flow as a user drives it over HTTP, shared by the end-to-end tests."""

import time
from decimal import Decimal
from uuid import uuid4

import requests
from deploy.devservers import wait_for

from deploy.devservers import wait_for
from tests.support.identity import staff as as_staff

STAFF = as_staff("technician-1")  # the technicians' pool (tests/support/platform.py hires them)
ASSIGNED = "pool"  # what the default template's handler is told: each member of the technicians' pool
FINANCE = as_staff("finance-1", "finance")
PARTS = [{"code": "P-FILTER", "quantity": "2"}]
LABOUR = [{"code": "L-REPAIR", "quantity": "1"}]
EXPECTED_TOTAL = Decimal("291.10")  # settlement's example terms: 70.00 * 1.13 + 200.00 * 1.06
EXPECTED_PAYOUT = Decimal("123.50")  # 200.00 * 60 % + 70.00 * 5 %


def load_settlement_examples(platform, tenant: str = "acme") -> None:
    """Settlement's example terms (catalogue, regions, tiers, prices, payout rules) for the tenant."""
    answer = platform.post("settlement", f"/v1/tenants/{tenant}/examples", headers=FINANCE)
    assert answer.status_code == 200, answer.text


def work_and_close(platform, ticket_id: str, tenant: str = "acme", timeout: float = 10) -> None:
    """Parts, labour and the close, each with an Idempotency-Key: a 503 (the store stalled, outcome
    unknown) is sent again with the same key until `timeout`; anything else is the answer."""
    base = f"/v1/tenants/{tenant}/tickets/{ticket_id}"
    for what, items in (("parts", PARTS), ("labour", LABOUR)):
        answer = _once(platform, f"{base}/{what}", timeout, json={"items": items})
        assert answer.status_code == 201, answer.text
    answer = _once(platform, f"{base}/close", timeout)
    assert answer.status_code == 200, answer.text


def _once(platform, path: str, timeout: float, **kwargs) -> requests.Response:
    headers, deadline = {**STAFF, "Idempotency-Key": str(uuid4())}, time.monotonic() + timeout
    while True:
        answer = platform.post("workflow", path, headers=headers, timeout=timeout, **kwargs)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def statement(platform, ticket_id: str, timeout: float = 30, tenant: str = "acme") -> dict:
    def issued():
        r = settlement_get(platform, f"/v1/tenants/{tenant}/tickets/{ticket_id}/statement", FINANCE)
        return r.json() if r.status_code == 200 else None

    return wait_for(issued, timeout, interval=0.1, message=f"no statement for {ticket_id}")


def settlement_get(platform, path: str, headers: dict, **query) -> requests.Response:
    """A GET on settlement as `headers` say who asks (its routes want a caller)."""
    return requests.get(platform.urls["settlement"] + path, headers=headers, params=query, timeout=10)


def deliveries(platform, ticket_id: str, tenant: str = "acme", kind: str = ASSIGNED) -> list:
    """The ticket's deliveries of one kind (by default: its handlers told of the ticket)."""
    answer = platform.get("notify", f"/v1/tenants/{tenant}/tickets/{ticket_id}/deliveries")  # every one: a system's key
    return [d for d in answer.json()["deliveries"] if d["kind"] == kind]


def told(platform, ticket_id: str, kind: str = ASSIGNED) -> bool:
    """Whether that delivery was sent."""
    return any(d["status"] == "sent" for d in deliveries(platform, ticket_id, kind=kind))


def check_one_ticket_end_to_end(platform, submission_id: str) -> str:
    load_settlement_examples(platform)
    created = platform.submit(submission_id)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["ticket_id"]
    again = platform.submit(submission_id)
    assert (again.status_code, again.json()["ticket_id"]) == (200, ticket_id)

    ticket = platform.wait_for_ticket(ticket_id)
    assert (ticket["node"], ticket["handler"]) == ("处理中", "role:technician")
    wait_for(lambda: told(platform, ticket_id), 30, message="the handler was never notified")

    work_and_close(platform, ticket_id)
    issued = statement(platform, ticket_id)
    assert Decimal(issued["gross"]) == EXPECTED_TOTAL
    assert Decimal(issued["payout"]) == EXPECTED_PAYOUT
    wait_for(
        lambda: told(platform, ticket_id, "statement") and told(platform, ticket_id, "completed"),
        30,
        message="the technician was not told of the statement, or the customer of the completion",
    )
    assert len(deliveries(platform, ticket_id)) == 1
    return ticket_id
