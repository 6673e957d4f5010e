"""The thin flow as a user drives it over HTTP, shared by the end-to-end tests."""

from decimal import Decimal

from deploy.devservers import wait_for

STAFF = {"X-Staff-Id": "technician-1"}
PARTS = [{"code": "P-FILTER", "quantity": "2"}]
LABOUR = [{"code": "L-REPAIR", "quantity": "1"}]
EXPECTED_TOTAL = Decimal("286.20")  # (70.00 + 200.00) * 1.06
EXPECTED_PAYOUT = Decimal("123.50")  # 200.00 * 60 % + 70.00 * 5 %


def work_and_close(platform, ticket_id: str, tenant: str = "acme") -> None:
    base = f"/v1/tenants/{tenant}/tickets/{ticket_id}"
    for what, items in (("parts", PARTS), ("labour", LABOUR)):
        answer = platform.post("workflow", f"{base}/{what}", json={"items": items}, headers=STAFF)
        assert answer.status_code == 201, answer.text
    answer = platform.post("workflow", f"{base}/close", headers=STAFF)
    assert answer.status_code == 200, answer.text


def statement(platform, ticket_id: str, timeout: float = 30, tenant: str = "acme") -> dict:
    def issued():
        r = platform.get("settlement", f"/v1/tenants/{tenant}/tickets/{ticket_id}/statement")
        return r.json() if r.status_code == 200 else None
    return wait_for(issued, timeout, interval=0.1, message=f"no statement for {ticket_id}")


def deliveries(platform, ticket_id: str, tenant: str = "acme") -> list:
    return platform.get("notify", f"/v1/tenants/{tenant}/tickets/{ticket_id}/deliveries").json()["deliveries"]


def check_one_ticket_end_to_end(platform, submission_id: str) -> str:
    created = platform.submit(submission_id)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["ticket_id"]
    again = platform.submit(submission_id)
    assert (again.status_code, again.json()["ticket_id"]) == (200, ticket_id)

    ticket = platform.wait_for_ticket(ticket_id)
    assert (ticket["node"], ticket["handler"]) == ("处理中", "technician-1")
    wait_for(lambda: [d for d in deliveries(platform, ticket_id) if d["made_at"]], 30,
             message="the handler was never notified")

    work_and_close(platform, ticket_id)
    issued = statement(platform, ticket_id)
    assert Decimal(issued["total"]) == EXPECTED_TOTAL
    assert Decimal(issued["payout"]) == EXPECTED_PAYOUT
    assert len(deliveries(platform, ticket_id)) == 1
    return ticket_id
