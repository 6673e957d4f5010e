"""A write sent again with its Idempotency-Key is not done twice (shared/idempotency.py): a technician
whose phone timed out while recording a part sends it again, and the ticket has one part, not two."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from tests.support.tenant import TECHNICIAN, TENANT, signed_in, tenant  # noqa: F401  (a fixture)

PART = {"items": [{"code": "P-VALVE", "quantity": "1"}]}


def recorded(tenant, ticket_id) -> list[str]:  # noqa: F811
    history = tenant.client("workflow").get(f"/v1/tenants/{TENANT}/tickets/{ticket_id}", headers=signed_in("workflow"))
    return [e["type"] for e in history.get_json()["history"]]


def post(tenant, path, body=None, key=None, member=TECHNICIAN):  # noqa: F811
    headers = signed_in("workflow", member) | ({"Idempotency-Key": key} if key else {})
    return tenant.client("workflow").post(f"/v1/tenants/{TENANT}/tickets/{path}", json=body, headers=headers)


def open_ticket(tenant) -> str:  # noqa: F811
    return tenant.known["ticket_id"][1]


def test_a_part_sent_again_with_its_key_is_recorded_once(tenant):  # noqa: F811
    ticket = open_ticket(tenant)
    first = post(tenant, f"{ticket}/parts", PART, key="k-1")
    again = post(tenant, f"{ticket}/parts", PART, key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["version"] == first.get_json()["version"]
    assert recorded(tenant, ticket).count("PartsConsumed") == 1


def test_without_a_key_every_request_is_a_new_one(tenant):  # noqa: F811
    ticket = open_ticket(tenant)
    for _ in range(2):
        assert post(tenant, f"{ticket}/parts", PART).status_code == 201
    assert recorded(tenant, ticket).count("PartsConsumed") == 2


def test_a_key_used_for_another_request_is_refused(tenant):  # noqa: F811
    ticket = open_ticket(tenant)
    assert post(tenant, f"{ticket}/parts", PART, key="k-1").status_code == 201
    other = post(tenant, f"{ticket}/labour", {"items": [{"code": "L-REPAIR", "quantity": "1"}]}, key="k-1")
    assert (other.status_code, other.get_json()["error"]["code"]) == (422, "idempotency_key_reused")
    more = post(tenant, f"{ticket}/parts", {"items": [{"code": "P-VALVE", "quantity": "2"}]}, key="k-1")
    assert more.status_code == 422
    assert recorded(tenant, ticket).count("PartsConsumed") == 1 and "LabourRecorded" not in recorded(tenant, ticket)


def test_keys_are_the_callers_own(tenant):  # noqa: F811
    ticket = open_ticket(tenant)
    assert post(tenant, f"{ticket}/parts", PART, key="k-1").status_code == 201
    theirs = post(tenant, f"{ticket}/parts", PART, key="k-1", member="admin")
    # not the technician's answer replayed: the administrator's own request, refused (not a handler here)
    assert theirs.status_code == 403 and "Idempotent-Replayed" not in theirs.headers


def test_a_refused_request_leaves_its_key_unused(tenant):  # noqa: F811
    ticket = open_ticket(tenant)
    refused = post(tenant, f"{ticket}/parts/returns", PART, key="k-1")  # nothing consumed yet to return
    assert refused.status_code == 400
    assert post(tenant, f"{ticket}/parts", PART, key="k-1").status_code == 201
    assert recorded(tenant, ticket).count("PartsConsumed") == 1 and "PartsReturned" not in recorded(tenant, ticket)


def test_an_invalid_key_is_a_400(tenant):  # noqa: F811
    answer = post(tenant, f"{open_ticket(tenant)}/parts", PART, key="x" * 256)
    assert (answer.status_code, answer.get_json()["error"]["details"]) == (400, {"header": "Idempotency-Key"})


def test_every_write_on_a_ticket_takes_a_key(tenant):  # noqa: F811
    ticket = open_ticket(tenant)
    first = post(tenant, f"{ticket}/close", key="close-1")
    again = post(tenant, f"{ticket}/close", key="close-1")
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (200, 200, "true")
    assert recorded(tenant, ticket).count("Closed") == 1  # not a 409 "closed already" for the retry either


def test_concurrent_requests_with_one_key_record_it_once(tenant):  # noqa: F811
    ticket, clients = open_ticket(tenant), 6
    start = Barrier(clients)

    def send(_):
        start.wait()
        return post(tenant, f"{ticket}/parts", PART, key="k-race")

    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(send, range(clients)))
    assert sorted(a.status_code for a in answers) == [201] * clients, [a.get_json() for a in answers]
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert recorded(tenant, ticket).count("PartsConsumed") == 1
