"""Workflow refuses a code the tenant's catalogue in settlement does not have, when it is recorded:
it learns the catalogue from settlement's public events. On SQLite and PostgreSQL."""

from services.intake import bootstrap as intake
from services.settlement import bootstrap as settlement
from services.workflow import bootstrap as workflow
from tests.integration.test_flow_in_process import CUSTOMER, FINANCE, STAFF, drain
from tests.support.identity import bearer, issue_key, open_tenant, replicate, staff
from tests.support.staffing import hire


def test_unknown_codes_are_refused_with_a_422_naming_them(settings):
    keys = {}
    for tenant in ("acme", "other"):
        open_tenant(settings, tenant)
        hire(settings, tenant, "technician-1")
        keys[tenant] = bearer(issue_key(settings, "write", tenant))
    replicate(settings, intake, settlement)
    submit, flow = intake.web_app(settings).test_client(), workflow.web_app(settings).test_client()
    terms, follower = settlement.web_app(settings).test_client(), workflow.follower(settings)
    tickets = {}
    for tenant in ("acme", "other"):
        created = submit.post(
            f"/v1/tenants/{tenant}/h5/submissions",
            headers=keys[tenant],
            json={"submission_id": "s-1", "customer": CUSTOMER, "description": "空调不制冷"},
        )
        tickets[tenant] = f"/v1/tenants/{tenant}/tickets/{created.json['ticket_id']}"
    drain(follower)

    def record(tenant: str, what: str, code: str):
        return flow.post(
            f"{tickets[tenant]}/{what}",
            json={"items": [{"code": code, "quantity": "1"}]},
            headers=STAFF if tenant == "acme" else staff("technician-1", tenant=tenant),
        )

    assert record("acme", "parts", "ANYTHING").status_code == 201  # no catalogue yet: any code
    for kind, code in (("part", "P-FILTER"), ("labour", "L-REPAIR")):
        saved = terms.put(
            f"/v1/tenants/acme/catalogue/{kind}/{code}",
            headers=FINANCE,
            json={"name": code, "unit": "个", "category": "配件"},
        )
        assert saved.status_code == 200, saved.json
    drain(follower)

    refused = record("acme", "parts", "P-NOPE")
    assert (refused.status_code, refused.json["error"]["code"]) == (422, "unknown_code")
    assert refused.json["error"]["details"]["codes"] == ["P-NOPE"] and "P-NOPE" in refused.json["error"]["message"]
    assert record("acme", "parts", "P-FILTER").status_code == 201
    assert record("acme", "labour", "P-FILTER").status_code == 422  # a spare part is no service item
    assert record("acme", "labour", "L-REPAIR").status_code == 201
    assert record("acme", "parts/returns", "P-NOPE").status_code == 422
    assert record("acme", "parts/returns", "P-FILTER").status_code == 201
    assert record("other", "parts", "P-NOPE").status_code == 201  # another tenant's catalogue is not this one's

    assert terms.delete("/v1/tenants/acme/catalogue/part/P-FILTER", headers=FINANCE).status_code == 204
    drain(follower)
    assert record("acme", "parts", "P-FILTER").status_code == 422
    assert (
        terms.put(
            "/v1/tenants/acme/catalogue/part/P-X", headers=STAFF, json={"name": "x", "unit": "个", "category": "配件"}
        ).status_code
        == 403
    )
