"""Every service's /openapi.json is a valid OpenAPI 3.0 document (openapi-spec-validator), lists every
route the app serves, says for every operation which credentials it takes (`security`, `[]` for a public
one), and gives every 4xx/5xx the one error body. The apps are the ones tests/support/tenant.py builds."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from shared.settings import SERVICES
from tests.support.tenant import tenant  # noqa: F401 - fixture

METHODS = ("get", "put", "post", "delete", "patch")
SCHEMES = {"staffToken", "apiKey", "sessionCookie", "csrfToken", "trustedProxy"}
PUBLIC = {
    ("intake", "/v1/tenants/{tenant}/wecom/callback"),
    ("intake", "/v1/tenants/{tenant}/mp/callback"),
    ("intake", "/h5/{tenant}/{slug}"),
    ("intake", "/h5/{tenant}/{slug}/submissions"),
    ("intake", "/h5/{tenant}/{slug}/uploads"),
    ("intake", "/h5/{tenant}/uploads/{ref}"),
    ("workflow", "/v1/tenants/{tenant}/sessions"),
    ("workflow", "/v1/tenants/{tenant}/sessions/wecom"),
    ("workflow", "/.well-known/jwks.json"),
}
PLATFORM = ("/healthz", "/readyz", "/metrics", "/openapi.json")


def document(tenant, service: str) -> dict:  # noqa: F811
    answer = tenant.client(service).get("/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def operations(spec: dict):
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_is_valid_openapi_and_lists_every_route(tenant, service):  # noqa: F811
    spec = document(tenant, service)
    validate(spec)
    documented = {(path, method) for path, method, _ in operations(spec)}
    served = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in tenant.apps[service].url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served - documented == set()
    assert {"/healthz", "/metrics", "/openapi.json"} <= set(spec["paths"])


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_says_who_may_call_it_and_how_it_refuses(tenant, service):  # noqa: F811
    spec = document(tenant, service)
    assert set(spec["components"]["securitySchemes"]) == SCHEMES
    assert spec["components"]["securitySchemes"]["sessionCookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "scrm_session",
        "description": spec["components"]["securitySchemes"]["sessionCookie"]["description"],
    }
    for path, method, operation in operations(spec):
        where = f"{service} {method.upper()} {path}"
        assert "security" in operation, where
        for requirement in operation["security"]:
            assert set(requirement) <= SCHEMES, where
        if operation["security"]:
            session = next(r for r in operation["security"] if "sessionCookie" in r)
            assert ("csrfToken" in session) == (method != "get"), where
            assert operation["x-scope"] in ("read", "write", "admin"), where
            assert {"401", "403"} <= set(operation["responses"]), where
        assert "default" in operation["responses"], where  # an unexpected error: 500
        for status, response in operation["responses"].items():
            if status[0] in "45" and path not in PLATFORM[:2]:  # a 503 there is a status report
                if "$ref" in response:  # one of the document's responses
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                schema = response["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorBody"), (where, status)
    assert all(document(tenant, service)["paths"][p]["get"]["security"] == [] for p in ("/healthz", "/metrics"))


def test_public_routes_say_so_and_closed_ones_do_not(tenant):  # noqa: F811
    for service, path in PUBLIC:
        for method, operation in document(tenant, service)["paths"][path].items():
            if method in METHODS:  # open to anyone, and saying what it checks instead
                assert operation["security"] == [], (service, method, path)
                assert operation["description"].startswith("Public: "), (service, method, path)
    for service in SERVICES:  # and every public one is one of those, or the platform's own
        spec = document(tenant, service)
        opened = {(service, path) for path, _, operation in operations(spec) if operation["security"] == []}
        assert opened - PUBLIC <= {(service, path) for path in PLATFORM}, service
    spec = document(tenant, "workflow")
    assert spec["paths"]["/v1/tenants/{tenant}/api-keys"]["get"]["x-scope"] == "admin"
    assert spec["paths"]["/v1/tenants/{tenant}/tickets/{ticket_id}"]["get"]["x-scope"] == "read"


def test_the_tenant_is_documented_with_its_shape(tenant):  # noqa: F811
    for service in SERVICES:
        item = document(tenant, service)["paths"]["/v1/tenants/{tenant}/whoami"]
        parameter = next(
            p for p in item.get("parameters", []) + item["get"].get("parameters", []) if p["name"] == "tenant"
        )
        assert parameter["schema"]["pattern"].startswith("^[a-z0-9]")
