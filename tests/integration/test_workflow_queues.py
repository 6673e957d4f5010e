"""Issue 14 over HTTP, on SQLite and on PostgreSQL: when nobody fits, tickets wait in an unassigned
queue that dispatchers see and claim from (urgent ones first); every list puts urgent tickets first
and shows the priority on the card; a hand-off to someone not in the directory is refused."""

import pytest

from tests.integration.test_workflow_templates import ADMIN, Desk, at
from tests.support.identity import staff as as_staff

NO_TECHNICIANS = {
    "d-1": {"roles": ["dispatcher"]},
    "cs-1": {"roles": ["customer_service"]},
    "lead": {"roles": ["supervisor"]},
}


@pytest.fixture
def desk(settings):
    desk = Desk(settings)
    for user, member in NO_TECHNICIANS.items():
        assert desk.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=ADMIN).status_code == 200
    return desk


def raise_ticket(desk, description: str) -> str:
    desk.opened += 1
    accepted = desk.intake.submit("acme", "wecom", f"m-{desk.opened}", {"wecom_userid": "lisi"}, description)
    while desk.worker.run_once():
        pass
    return f"/v1/tenants/acme/tickets/{accepted.ticket_id}"


def queues(desk, user: str, **query) -> dict:
    answer = desk.http.get("/v1/tenants/acme/unassigned", query_string=query, headers=as_staff(user))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_nobody_fits_the_ticket_waits_in_the_queue_dispatchers_see_and_claim_from(desk):
    calm, urgent = raise_ticket(desk, "空调不制冷"), raise_ticket(desk, "紧急！水管爆了")
    assert at(desk.see(calm)) == {"处理中": "queue:technician"}  # never a person who does not exist
    timeline = desk.http.get(f"{calm}/timeline", headers=ADMIN).json["timeline"]
    (why,) = [e["data"] for e in timeline if e["type"] == "Unassigned"]
    assert (why["queue"], why["by"]) == ("technician", "system") and "没有任何成员" in why["reason"]

    seen = queues(desk, "d-1")
    assert seen["queues"] == [{"queue": "queue:technician", "role": "technician", "site": None, "count": 2}]
    assert [(t["id"] in urgent, t["priority"]) for t in seen["tickets"]] == [(True, "urgent"), (False, "normal")]
    assert queues(desk, "cs-1") == {"queues": [], "total": 0, "tickets": []}  # not a dispatcher, not a technician
    assert queues(desk, "d-1", role="warehouse")["total"] == 0

    listed = desk.http.get("/v1/tenants/acme/tickets", headers=ADMIN).json["tickets"]
    assert [t["priority"] for t in listed] == ["urgent", "normal"]  # the urgent one first, although older is calm

    assert at(desk.act(urgent, "d-1", "claim")) == {"处理中": "d-1"}
    left = queues(desk, "d-1")
    assert left["total"] == 1 and left["queues"][0]["count"] == 1 and left["tickets"][0]["id"] in calm
    ghost = desk.act(calm, "d-1", "transfer", 400, handler={"kind": "user", "value": "nobody-xyz"})
    assert ghost["error"]["details"] == {"handler": "nobody-xyz", "rule": "handler_exists"}
    assert at(desk.see(calm)) == {"处理中": "queue:technician"}


def test_nobody_found_goes_public_as_ticket_unassigned(desk, settings):
    from shared.contracts import validate_envelope
    from shared.persistence import outbox_reader

    ticket = raise_ticket(desk, "热水器不出热水")
    (public,) = [e for e in outbox_reader("workflow", settings).read(0) if e.type == "ticket.unassigned"]
    assert validate_envelope(public) is public and str(public.subject) in ticket
    assert {k: public.data[k] for k in ("node", "queue", "role", "site", "by")} == {
        "node": "处理中",
        "queue": "queue:technician",
        "role": "technician",
        "site": None,
        "by": "system",
    }


def test_the_unassigned_queue_needs_a_signed_in_caller(desk):
    assert desk.http.get("/v1/tenants/acme/unassigned", headers={}).status_code == 401
    assert (
        desk.http.get("/v1/tenants/acme/unassigned", query_string={"limit": 0}, headers=as_staff("d-1")).status_code
        == 400
    )
