"""A field hidden from a viewer appears nowhere they look: the installation template hides the contact
phone from the warehouse at parts_check. Every GET route of workflow's OpenAPI document is asked as the
warehouse member (so a new route cannot be forgotten), and actions answer with the ticket too."""

import re

import pytest

from tests.integration.test_workflow_templates import ADMIN, desk  # noqa: F401 (the fixture)
from tests.support.identity import staff as as_staff

PHONE = "13912345678"
SHAPES = (PHONE, "139-1234-5678", "139 1234 5678")
CUSTOMER = {"name": "赵六", "phone": PHONE, "address": "深圳市南山区科技园"}
VALUES = {
    "customer": "赵六",
    "contact_phone": PHONE,
    "product_model": "KFR-35",
    "address": {"lat": 22.54, "lng": 113.95, "address": "深圳市南山区科技园"},
}
DESCRIPTION = "H5 表单「家电安装」\n联系电话：139-1234-5678\n产品型号：KFR-35\n请来前打 139 1234 5678"
WAREHOUSE, TECHNICIAN = as_staff("w-1"), as_staff("technician-1")


@pytest.fixture
def ticket(desk):  # noqa: F811
    accepted = desk.intake.submit(
        "acme", "h5", "visible-1", CUSTOMER, DESCRIPTION, template="installation", values=VALUES
    )
    while desk.worker.run_once():
        pass
    path = f"/v1/tenants/acme/tickets/{accepted.ticket_id}"
    desk.act(path, "d-1", "advance")  # → parts_check (warehouse) and schedule (the technicians' queue)
    desk.act(path, "technician-1", "claim", node="schedule")  # nobody else handles it now
    return path


def leaks(body: str) -> list[str]:
    return [shape for shape in SHAPES if shape in body]


def paths(desk, ticket) -> list[str]:
    """Every GET route of workflow with a tenant, its path values filled for this ticket."""
    known = {
        "tenant": "acme",
        "ticket_id": ticket.rsplit("/", 1)[1],
        "key": "installation",
        "version": "1",
        "user": "w-1",
        "pool": "role:warehouse",
        "site": "nanshan",
    }
    document = desk.http.get("/openapi.json").json
    filled = []
    for path, operations in document["paths"].items():
        if "get" in operations and "{tenant}" in path:
            filled.append(re.sub(r"\{(\w+)\}", lambda m: known.get(m.group(1), "x"), path))
    return filled


def test_a_hidden_field_appears_in_nothing_the_viewer_gets(desk, ticket):  # noqa: F811
    routes = paths(desk, ticket)
    assert f"{ticket}" in routes and f"{ticket}/timeline" in routes and "/v1/tenants/acme/kanban" in routes
    asked = {route: {} for route in routes}
    asked["/v1/tenants/acme/kanban"] = {"template": "installation"}
    asked["/v1/tenants/acme/tickets"] = {"customer": PHONE}  # search by the hidden phone finds nothing
    for route, query in asked.items():
        answer = desk.http.get(route, query_string=query, headers=WAREHOUSE)
        assert not leaks(answer.get_data(as_text=True)), (route, answer.get_data(as_text=True))
    assert (
        desk.http.get("/v1/tenants/acme/tickets", query_string={"customer": PHONE}, headers=WAREHOUSE).json["total"]
        == 0
    )
    for route in ("/v1/tenants/acme/tickets", "/v1/tenants/acme/my-tickets"):  # the ticket is there, masked
        card = desk.http.get(route, headers=WAREHOUSE).json["tickets"][0]
        shown = {k: v for k, v in card["customer"].items() if k != "customer_id"}  # intake's opaque id for them
        assert shown == {"name": "赵六", "address": "深圳市南山区科技园"} and "contact_phone" not in card["values"]
        assert "联系电话：***" in card["description"] and "产品型号：KFR-35" in card["description"]

    view = desk.http.get(ticket, headers=WAREHOUSE).json
    assert "contact_phone" not in view["values"] and view["values"]["product_model"] == "KFR-35"
    assert "phone" not in view["customer"] and view["customer"]["address"] == "深圳市南山区科技园"
    opened = view["history"][0]["data"]
    assert "phone" not in opened["customer"] and opened["description"].endswith("请来前打 ***")

    acted = desk.http.post(
        f"{ticket}/actions", json={"action": "edit", "values": {"parts_status": "ordered"}}, headers=WAREHOUSE
    )
    assert acted.status_code == 200 and not leaks(acted.get_data(as_text=True))


def test_who_may_see_the_field_sees_it_everywhere(desk, ticket):  # noqa: F811
    view = desk.http.get(ticket, headers=TECHNICIAN).json  # handles schedule, which hides nothing
    assert view["values"]["contact_phone"] == PHONE and view["customer"]["phone"] == PHONE
    assert view["description"] == DESCRIPTION
    assert PHONE in desk.http.get(f"{ticket}/timeline", headers=TECHNICIAN).get_data(as_text=True)
    found = desk.http.get("/v1/tenants/acme/tickets", query_string={"customer": PHONE}, headers=TECHNICIAN).json
    assert found["total"] == 1 and found["tickets"][0]["customer"]["phone"] == PHONE
    kanban = desk.http.get(
        "/v1/tenants/acme/kanban", query_string={"template": "installation"}, headers=TECHNICIAN
    ).get_data(as_text=True)
    assert PHONE in kanban


def test_anyone_not_handling_it_sees_only_what_no_current_node_hides(desk, ticket):  # noqa: F811
    for who in (as_staff("cs-1"), ADMIN):
        assert not leaks(desk.http.get(ticket, headers=who).get_data(as_text=True))
    desk.act(ticket, "w-1", "advance", values={"parts_status": "complete"})  # parts_check left: nothing hides it
    assert desk.http.get(ticket, headers=as_staff("cs-1")).json["customer"]["phone"] == PHONE


def test_intake_shows_the_customer_to_the_tenants_systems_and_administrators_only(settings):
    """Intake cannot apply a template's field rules: staff read tickets through workflow, which does."""
    from services.intake import bootstrap as intake
    from services.intake.api import create_app
    from tests.support.identity import bearer, identity_of, issue_key, open_tenant, replicate

    open_tenant(settings)
    key = issue_key(settings, "read")
    replicate(settings, intake)
    app = intake.application(settings)
    accepted = app.submit("acme", "h5", "visible-2", CUSTOMER, DESCRIPTION)
    http = create_app(app, identity_of(app)).test_client()
    ticket = f"/v1/tenants/acme/tickets/{accepted.ticket_id}"
    for path in (ticket, f"{ticket}/customer", "/v1/tenants/acme/customers?kind=phone&value=" + PHONE):
        refused = http.get(path, headers=WAREHOUSE)
        assert refused.status_code == 403 and not leaks(refused.get_data(as_text=True)), path
        assert http.get(path, headers=bearer(key)).status_code == 200
        assert http.get(path, headers=ADMIN).status_code == 200
    assert http.get("/v1/tenants/acme/whoami", headers=WAREHOUSE).json["subject"] == "w-1"
