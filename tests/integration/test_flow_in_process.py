"""The thin flow through all four services' applications, on SQLite and on PostgreSQL."""

from decimal import Decimal

import pytest

from services.intake import bootstrap as intake
from services.notify import bootstrap as notify
from services.settlement import bootstrap as settlement
from services.workflow import bootstrap as workflow
from tests.support.identity import SignedIn, admin, bearer, issue_key, open_tenant, replicate, staff

CUSTOMER = {"name": "张三", "phone": "13800138000", "address": "上海市浦东新区"}
STAFF = staff("technician-1")
FINANCE = staff("finance-1", "finance")


def submit(client, submission_id="s-1", tenant="acme"):
    return client.post(
        f"/v1/tenants/{tenant}/h5/submissions",
        json={"submission_id": submission_id, "customer": CUSTOMER, "description": "空调不制冷"},
    )


def drain(*followers):
    while sum(f.run_once() for f in followers):
        pass


@pytest.fixture
def platform(settings):
    class Platform:
        def drain(self):
            drain(*self.followers)

    p = Platform()
    open_tenant(settings)
    key = issue_key(settings, "write")  # a system of the tenant's posts forms
    replicate(settings, intake, settlement, notify)
    p.intake = SignedIn(intake.web_app(settings).test_client(), bearer(key))
    p.workflow = SignedIn(workflow.web_app(settings).test_client(), STAFF)
    p.settlement = SignedIn(settlement.web_app(settings).test_client(), admin())
    p.notify = SignedIn(notify.web_app(settings).test_client(), admin())
    p.followers = [
        workflow.follower(settings),
        notify.follower(settings),
        settlement.follower(settings),
        settlement.stock_keeper(settings),
    ]
    assert p.settlement.post("/v1/tenants/acme/examples", headers=FINANCE).status_code == 200
    assert (
        p.workflow.put(
            "/v1/tenants/acme/staff/technician-1", json={"roles": ["technician"]}, headers=admin()
        ).status_code
        == 200
    )  # the default template's pool
    return p


def test_a_submission_flows_to_a_statement(platform, settings):
    created = submit(platform.intake)
    assert created.status_code == 201
    ticket_id = created.json["ticket_id"]
    again = submit(platform.intake)
    assert (again.status_code, again.json["ticket_id"]) == (200, ticket_id)

    platform.drain()
    ticket = platform.workflow.get(f"/v1/tenants/acme/tickets/{ticket_id}").json
    assert (ticket["node"], ticket["handler"]) == ("处理中", "role:technician")
    deliveries = platform.notify.get(f"/v1/tenants/acme/tickets/{ticket_id}/deliveries", headers=admin()).json
    assert sorted((d["kind"], d["recipient"].split(":")[0], d["channel"]) for d in deliveries["deliveries"]) == [
        ("accepted", "customer", "sms"),
        ("pool", "staff", "wecom"),
    ]
    assert {d["address"] for d in deliveries["deliveries"]} == {"technician-1", "13800138000"}
    theirs = platform.notify.get(f"/v1/tenants/acme/tickets/{ticket_id}/deliveries", headers=STAFF)
    assert [d["recipient"] for d in theirs.json["deliveries"]] == ["staff:technician-1"]  # the customer's: not theirs
    assert CUSTOMER["phone"] not in theirs.text

    base = f"/v1/tenants/acme/tickets/{ticket_id}"
    assert (
        platform.workflow.post(
            base + "/parts", json={"items": [{"code": "P-VALVE", "quantity": "1"}]}, headers=STAFF
        ).status_code
        == 201
    )
    assert (
        platform.workflow.post(
            base + "/labour", json={"items": [{"code": "L-INSTALL", "quantity": "2"}]}, headers=STAFF
        ).status_code
        == 201
    )
    assert platform.workflow.post(base + "/close", headers=STAFF).status_code == 200
    platform.drain()

    statement = platform.settlement.get(base + "/statement", headers=FINANCE).json
    # the example terms: P-VALVE 120.00 + 13 %, 2 × L-INSTALL 150.00 + 6 %; 5 % and 60 % to the technician
    assert Decimal(statement["net"]) == Decimal("420.00")
    assert Decimal(statement["gross"]) == Decimal("453.60")
    assert Decimal(statement["payout"]) == Decimal("186.00")
    history = [e["type"] for e in platform.workflow.get(base).json["history"]]
    assert history == ["Opened", "PartsConsumed", "LabourRecorded", "Closed"]


def test_staff_actions_are_checked(platform):
    ticket_id = submit(platform.intake).json["ticket_id"]
    base = f"/v1/tenants/acme/tickets/{ticket_id}"
    assert platform.workflow.get(base).status_code == 404  # not folded in yet
    platform.drain()
    items = {"items": [{"code": "P-VALVE", "quantity": "1"}]}
    assert platform.workflow.post(base + "/parts", json=items, headers={}).json["error"]["code"] == "unauthenticated"
    denied = platform.workflow.post(base + "/parts", json=items, headers=staff("intruder"))
    assert denied.status_code == 403 and denied.json["error"]["code"] == "not_allowed"
    bad = platform.workflow.post(base + "/parts", json={"items": [{"code": "P", "quantity": "-2"}]}, headers=STAFF)
    assert bad.status_code == 400 and "items" in bad.json["error"]["details"]["fields"]
    assert platform.workflow.post(base + "/close", headers=STAFF).status_code == 200
    assert platform.workflow.post(base + "/close", headers=STAFF).status_code == 409
    assert platform.workflow.get(f"/v1/tenants/other/tickets/{ticket_id}").status_code == 404
    assert (
        platform.settlement.get(f"/v1/tenants/acme/tickets/{ticket_id}/statement", headers=FINANCE).status_code == 404
    )


@pytest.mark.parametrize(
    "body, status, code",
    [
        (
            {
                "submission_id": "x",
                "customer": {"name": "a", "phone": "not a phone", "address": "b"},
                "description": "d",
            },
            400,
            "validation_failed",
        ),
        ({"customer": CUSTOMER}, 400, "validation_failed"),
        ([1, 2], 400, "malformed_json"),
    ],
)
def test_bad_submissions_get_a_clear_4xx_and_record_nothing(platform, body, status, code):
    answer = platform.intake.post("/v1/tenants/acme/h5/submissions", json=body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)
    platform.drain()


def test_wrong_content_type_and_oversized_bodies_are_refused(platform):
    assert platform.intake.post("/v1/tenants/acme/h5/submissions", data="x=1").status_code == 415
    assert (
        platform.intake.post("/v1/tenants/acme/h5/submissions", data="{", content_type="application/json").json[
            "error"
        ]["code"]
        == "malformed_json"
    )
    huge = platform.intake.post("/v1/tenants/acme/h5/submissions", data=b"x" * 300_000, content_type="application/json")
    assert huge.status_code == 413 and huge.json["error"]["code"]
    assert platform.intake.post("/v1/tenants/ACME!/h5/submissions", json={}).status_code == 404


def test_every_app_documents_its_api(platform):
    for client in (platform.intake, platform.workflow, platform.settlement, platform.notify):
        spec = client.get("/openapi.json").json
        assert spec["openapi"].startswith("3.") and spec["paths"]
        assert client.get("/healthz").json["status"] == "ok"
        assert b"scrm_http_requests_total" in client.get("/metrics").data
