"""Bad input at every service's HTTP edge is a 4xx with the standard error body, and records nothing:
JSON nested too deep or holding a lone surrogate, numbers out of bounds, tenant ids of another shape,
other aggregates' ids used as ticket or customer ids; and what is served back cannot be sniffed into
HTML. Every app in-process on SQLite, a tenant set up through the APIs (tests/support/tenant.py).

Where a rule holds for every route, the routes come from each app's own OpenAPI document, so a route
added later is covered without a change here.
"""

from __future__ import annotations

import io
import json
import logging
from urllib.parse import quote

import pytest

from shared.jsonbody import MAX_DEPTH
from shared.settings import SERVICES
from services.intake import bootstrap as intake
from services.intake.forms.domain import form_id
from tests.support.h5 import png
from tests.support.tenant import CUSTOMER, TECHNICIAN, credentials, signed_in, tenant  # fixtures

SURROGATE = '"\\ud800"'  # a lone surrogate, as JSON writes it


@pytest.fixture(autouse=True)
def quiet_errors():
    """A 500 is logged with its traceback; the assertions say what went wrong."""
    logging.disable(logging.ERROR)
    yield
    logging.disable(logging.NOTSET)


METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def operations(tenant, service: str):
    """(method, path template, operation) of every operation the app documents."""
    paths = tenant.client(service).get("/openapi.json").get_json()["paths"]
    return [
        (method, path, operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
        if method in METHODS
    ]  # a path item also holds the parameters its operations share


def takes_json(operation: dict) -> bool:
    return "application/json" in operation.get("requestBody", {}).get("content", {})


def filled(tenant, service: str, path: str, replaced: dict[str, str] | None = None) -> str:
    """The path with a real value for each of its parameters (as `service` takes them), or the one
    `replaced` gives."""
    real = {name: quote(str(known[0]), safe="") for name, known in tenant.known_for(service).items()}
    return path.format(**real | (replaced or {}))


def call(tenant, service, method, path, credentials, **kwargs):
    return tenant.client(service).open(path, method=method.upper(), headers=credentials[service], **kwargs)


def assert_refused(answers: dict, status: int, code: str) -> None:
    wrong = {
        where: (r.status_code, r.get_data(as_text=True)[:200])
        for where, r in answers.items()
        if r.status_code != status or (r.get_json(silent=True) or {}).get("error", {}).get("code") != code
    }
    assert answers and not wrong, wrong


# --- 9 and 10: request JSON, read in one place for every service ---------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 3000 + "]" * 3000,  # the interpreter's recursion limit, in the parser
        '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),  # within it, past the bound
        f'{{"name": {SURROGATE}, "description": {SURROGATE}, "submission_id": {SURROGATE}}}',
        '{"x\\udfff": 1}',
        '{"quantity": 1E+999999999}',
        '{"amount": NaN}',
    ],
    ids=["3000-levels", "one-level-too-deep", "lone-surrogate", "surrogate-key", "infinite-number", "nan"],
)
def test_unreadable_json_is_a_400_on_every_json_endpoint_and_records_nothing(tenant, credentials, body):
    before = tenant.recorded()
    answers = {
        f"{service} {method.upper()} {path}": call(
            tenant,
            service,
            method,
            filled(tenant, service, path),
            credentials,
            data=body,
            content_type="application/json",
        )
        for service in SERVICES
        for method, path, operation in operations(tenant, service)
        if takes_json(operation)
    }
    assert len(answers) >= 15  # intake's and workflow's JSON endpoints
    assert_refused(answers, 400, "malformed_json")
    assert tenant.recorded() == before


@pytest.mark.parametrize(
    "service, method, path, body",
    [
        (
            "intake",
            "post",
            "/v1/tenants/acme/h5/submissions",
            {"submission_id": "s-x", "customer": {**CUSTOMER, "name": "\ud800"}, "description": "漏水"},
        ),
        ("intake", "post", "/v1/tenants/acme/customers", {"phone": "13900000000", "name": "李\udc00四"}),
        ("workflow", "put", "/v1/tenants/acme/staff/cs-2", {"name": "\ud800", "roles": ["customer_service"]}),
        (
            "workflow",
            "put",
            "/v1/tenants/acme/templates/surrogate/draft",
            {"key": "surrogate", "name": "模板\ud800", "nodes": [{"key": "a", "name": "\udfff"}]},
        ),
    ],
)
def test_a_lone_surrogate_in_a_field_is_a_400_where_it_was_a_500(tenant, credentials, service, method, path, body):
    before = tenant.recorded()
    raw = json.dumps(body)  # json writes a lone surrogate as its escape
    answer = call(tenant, service, method, path, credentials, data=raw, content_type="application/json")
    assert_refused({path: answer}, 400, "malformed_json")
    assert "surrogate" in answer.get_json()["error"]["message"]
    assert tenant.recorded() == before


# --- 11: quantities and amounts within bounds -----------------------------------------------------------

REFUND_VALUES = {"customer": "王五", "order_number": "JD12345678"}  # the refund form asks the customer the amount


@pytest.mark.parametrize("amount", ["1e30", "1E+999999999", "1" * 27, 1e30, "12.345"])
def test_a_form_money_value_out_of_bounds_is_a_400_naming_the_bounds(tenant, amount):
    before = tenant.recorded()
    slug = intake.application(tenant.settings).find(form_id("acme", "refund"), "acme").slug
    body = {
        "submission_id": "form-1",
        "version": 1,
        "customer": CUSTOMER,
        "values": {**REFUND_VALUES, "refund_amount": amount},
    }
    answer = tenant.client("intake").post(f"/h5/acme/{slug}/submissions", json=body)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["details"]["errors"] == {
        "refund_amount": "must lie within ±1,000,000,000,000 CNY, with at most 2 decimal places"
    }
    assert tenant.recorded() == before
    good = tenant.client("intake").post(
        f"/h5/acme/{slug}/submissions", json={**body, "values": {**REFUND_VALUES, "refund_amount": "49999.99"}}
    )
    assert good.status_code == 201, good.get_data(as_text=True)


@pytest.mark.parametrize("what", ["parts", "labour"])
@pytest.mark.parametrize("quantity", ["1E+40", "1E+999999999", "1000001", "0.0001", "0", "-2", 1e40])
def test_an_item_quantity_out_of_bounds_is_a_400_naming_the_bounds(tenant, what, quantity):
    before, open_ticket = tenant.recorded(), tenant.known["ticket_id"][1]
    answer = tenant.client("workflow").post(
        f"/v1/tenants/acme/tickets/{open_ticket}/{what}",
        headers=signed_in("workflow", TECHNICIAN),
        json={"items": [{"code": "P-VALVE", "quantity": quantity}]},
    )
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "more than 0 and at most 1,000,000, with at most 3 decimal places" in answer.get_data(as_text=True)
    assert tenant.recorded() == before
    at_the_bound = tenant.client("workflow").post(
        f"/v1/tenants/acme/tickets/{open_ticket}/{what}",
        headers=signed_in("workflow", TECHNICIAN),
        json={"items": [{"code": "P-VALVE", "quantity": "1000000"}]},
    )
    assert at_the_bound.status_code == 201


@pytest.mark.parametrize("amount", ["1E+999999999", "1e30", "0.001"])
def test_an_opportunity_amount_out_of_bounds_is_a_400(tenant, credentials, amount):
    before, customer = tenant.recorded(), tenant.known["customer_id"][0]
    answer = tenant.client("intake").post(
        f"/v1/tenants/acme/customers/{customer}/opportunities",
        headers=credentials["intake"],
        json={"title": "大单", "amount": amount, "by": "lisi"},
    )
    assert answer.status_code == 400 and "within ±1,000,000,000,000 CNY" in answer.get_json()["error"]["message"]
    assert tenant.recorded() == before


# --- 12: one tenant-id rule, before every route of every service ---------------------------------------


@pytest.mark.parametrize("bad", ["acme\n", "tenant-a\n", "a" * 3800, "ACME", "a"])
def test_a_tenant_id_of_another_shape_is_a_404_on_every_route_and_records_nothing(tenant, credentials, bad):
    before = tenant.recorded()
    answers = {}
    for service in SERVICES:
        for method, path, operation in operations(tenant, service):
            if "{tenant}" in path:
                body = (
                    {"json": {"submission_id": "s-1", "customer": CUSTOMER, "description": "漏水"}}
                    if takes_json(operation)
                    else {}
                )
                answers[f"{service} {method.upper()} {path}"] = call(
                    tenant,
                    service,
                    method,
                    filled(tenant, service, path, {"tenant": quote(bad, safe="")}),
                    credentials,
                    **body,
                )
    assert len(answers) >= 45  # every documented route under a tenant
    assert_refused(answers, 404, "not_found")
    assert tenant.recorded() == before


# --- 13: a route loads only the aggregate type it serves ---------------------------------------------

TICKET_ROUTES = [
    ("intake", "get", "/v1/tenants/acme/tickets/{id}", None),
    ("intake", "get", "/v1/tenants/acme/tickets/{id}/customer", None),
    ("workflow", "get", "/v1/tenants/acme/tickets/{id}", None),
    ("workflow", "get", "/v1/tenants/acme/tickets/{id}/timeline", None),
    ("workflow", "post", "/v1/tenants/acme/tickets/{id}/actions", {"action": "advance"}),
    ("workflow", "post", "/v1/tenants/acme/tickets/{id}/parts", {"items": [{"code": "P", "quantity": 1}]}),
    ("workflow", "post", "/v1/tenants/acme/tickets/{id}/close", None),
    ("workflow", "post", "/v1/tenants/acme/tickets/{id}/sandbox", {"op": "skip", "node": "处理中"}),
    ("settlement", "get", "/v1/tenants/acme/tickets/{id}/statement", None),
]
# (notify's /deliveries lists what it owes for any ticket id, none for one it never heard of: it loads nothing else)


def test_another_aggregates_id_as_a_ticket_or_customer_id_is_a_404(tenant, credentials):
    tickets, customers = set(map(str, tenant.known["ticket_id"])), set(map(str, tenant.known["customer_id"]))
    others = [str(i) for i in tenant.foreign_ids()]
    assert len(others) > 10  # staff directory, template library, key ring, identity claims, forms, settlements …
    before = tenant.recorded()
    answers = {}
    for service, method, path, body in TICKET_ROUTES:
        for id_ in others:
            if id_ not in tickets:
                answers[f"{method} {path} {id_}"] = call(
                    tenant, service, method, path.format(id=id_), credentials, json=body
                )
    for id_ in others:
        if id_ not in customers:
            answers[f"customer {id_}"] = call(tenant, "intake", "get", f"/v1/tenants/acme/customers/{id_}", credentials)
    wrong = {where: r.status_code for where, r in answers.items() if r.status_code != 404}
    assert not wrong, wrong
    assert tenant.recorded() == before


# --- 14: nothing served back can be sniffed into a page ------------------------------------------------


def test_an_upload_is_served_as_an_image_that_cannot_run(tenant):
    disguised = png()[:16] + b"<html><script>alert(document.cookie)</script></html>"  # PNG magic, then HTML
    desk = tenant.client("intake")
    ref = desk.post(
        f"/h5/acme/{tenant.known['slug'][0]}/uploads",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(disguised), "x.png", "text/html")},
    ).get_json()["ref"]
    served = desk.get(f"/h5/acme/uploads/{ref}")
    assert served.status_code == 200 and served.data == disguised
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served.headers["Content-Disposition"] == f'inline; filename="{ref}"'


def test_every_answer_of_every_app_forbids_sniffing(tenant, credentials):
    for service in SERVICES:
        client = tenant.client(service)
        for answer in (
            client.get("/healthz"),
            client.get("/openapi.json"),
            client.get("/no/such/page"),
            client.post("/v1/tenants/acme/tickets/x", data="{", content_type="application/json"),
        ):
            assert answer.headers.get("X-Content-Type-Options") == "nosniff", (service, answer.request.path)
    page = tenant.client("intake").get(f"/h5/acme/{tenant.known['slug'][0]}")
    assert page.status_code == 200 and page.headers["X-Content-Type-Options"] == "nosniff"
