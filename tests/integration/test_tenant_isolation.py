"""Tenant isolation over every route of every service, walked from each app's own /openapi.json (a route
added later is walked too): every operation on a tenant's path refuses a caller with no credentials
(401), another tenant's administrator or key (404 / 401: no tenant is revealed), and a read-scoped key
on a write (403), with nothing in the answer but the error. Public routes (channel callbacks, H5 pages,
signing in) answer by their own checks and are left out of the first two."""

from __future__ import annotations

import re

import pytest

from services.intake import bootstrap as intake
from services.notify import bootstrap as notify
from services.settlement import bootstrap as settlement
from shared.settings import SERVICES
from tests.support.identity import admin, bearer, issue_key, open_tenant, replicate
from tests.support.tenant import TENANT, tenant  # noqa: F401 - fixture

OTHER = "globex"
WRITES = ("post", "put", "patch", "delete")


@pytest.fixture
def platform(tenant):  # noqa: F811
    open_tenant(tenant.settings, OTHER)
    keys = {"foreign": issue_key(tenant.settings, "admin", OTHER), "read": issue_key(tenant.settings, "read")}
    replicate(tenant.settings, intake, settlement, notify)  # every service learns the tenant and the keys
    return tenant, keys


def operations(tenant, service: str):  # noqa: F811
    """(method, path with real values, whether the route is public) for each operation on a tenant's path."""
    app = tenant.apps[service]
    known = {**tenant.known_for(service), "tenant": [TENANT]}
    document = app.test_client().get("/openapi.json").json
    adapter = app.url_map.bind("localhost")
    for template, methods in document["paths"].items():
        if "{tenant}" not in template:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: str((known.get(m.group(1)) or ["x"])[0]), template)
        for method in methods:
            if method not in ("get", *WRITES):
                continue
            endpoint, _ = adapter.match(path, method=method.upper())
            yield method, path, getattr(app.view_functions[endpoint], "public", False)


def refused(answer, *statuses: int) -> bool:
    body = answer.get_json(silent=True)
    return answer.status_code in statuses and isinstance(body, dict) and set(body) == {"error"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_tenant_route_refuses_strangers_other_tenants_and_reads_that_write(platform, service):
    tenant, keys = platform
    client, walked = tenant.client(service), 0
    before = tenant.recorded()
    for method, path, public in operations(tenant, service):
        call = getattr(client, method)
        body = {} if method in WRITES else None
        if not public:
            walked += 1
            assert refused(call(path, json=body), 401), (method, path, "no credentials")
            assert refused(call(path, json=body, headers=admin(OTHER)), 404), (method, path, "another tenant's admin")
            assert refused(call(path, json=body, headers=bearer(keys["foreign"])), 401, 404), (method, path)
        if method in WRITES and not public:
            answer = call(path, json=body, headers=bearer(keys["read"]))
            assert refused(answer, 403), (method, path, "a read-scoped key", answer.status_code)
    assert walked >= 10  # 13 on intake, 38 on workflow, 25 on settlement, 17 on notify when written
    assert tenant.recorded() == before  # nothing refused was recorded
