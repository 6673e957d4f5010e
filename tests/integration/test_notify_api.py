"""Notify's HTTP API (flask-smorest): closed by default, bad input is a 400 naming the fields in the
project's error body, set-up changes need an administrator once the tenant has one, and the OpenAPI
document is made from the same schemas."""

import pytest

from tests.integration.notify_desk import ADMIN, NotifyDesk
from tests.support.identity import staff


@pytest.fixture
def desk(settings, monkeypatch):
    desk = NotifyDesk(settings, monkeypatch)
    yield desk
    desk.close()


def test_nothing_is_read_or_changed_without_saying_who_calls(desk):
    for method, path in (
        ("get", "/v1/tenants/acme/notify/setup"),
        ("put", "/v1/tenants/acme/notify/quiet-hours"),
        ("get", "/v1/tenants/acme/tickets/00000000-0000-0000-0000-000000000001/deliveries"),
    ):
        answer = getattr(desk.http, method)(path, json={"start": "22:00", "end": "08:00"})
        assert (answer.status_code, answer.json["error"]["code"]) == (401, "unauthenticated"), path


def test_bad_input_is_a_400_that_names_each_field(desk):
    answer = desk.http.put(
        "/v1/tenants/acme/notify/rules/assigned", json={"enabled": "maybe", "extra": 1}, headers=ADMIN
    )
    assert answer.status_code == 400 and answer.json["error"]["code"] == "validation_failed"
    assert set(answer.json["error"]["details"]["fields"]) == {"enabled", "extra"}
    bad_template = desk.http.put(
        "/v1/tenants/acme/notify/message-templates/assigned/wecom", headers=ADMIN, json={"body": "{% for %}"}
    )
    assert bad_template.status_code == 400 and "not a valid template" in bad_template.json["error"]["message"]
    assert desk.http.put("/v1/tenants/acme/notify/rules/nope", json={"enabled": True}, headers=ADMIN).status_code == 404
    assert (
        desk.http.put(
            "/v1/tenants/acme/notify/quiet-hours", json={"start": "25:00", "end": "08:00"}, headers=ADMIN
        ).status_code
        == 400
    )
    assert (
        desk.http.put("/v1/tenants/acme/notify/links", json={"staff": "ftp://x/{ticket_id}"}, headers=ADMIN).status_code
        == 400
    )
    assert (
        desk.http.delete("/v1/tenants/acme/notify/setup", headers=ADMIN).json["error"]["code"] == "method_not_allowed"
    )


def test_only_administrators_change_the_set_up(desk):
    cs = staff("cs-1", "customer_service")
    denied = desk.http.put("/v1/tenants/acme/notify/quiet-hours", json={"start": "22:00", "end": "08:00"}, headers=cs)
    assert denied.status_code == 403 and denied.json["error"]["details"]["rule"] == "admin"
    assert desk.http.get("/v1/tenants/acme/notify/providers", headers=cs).status_code == 403
    allowed = desk.http.put(
        "/v1/tenants/acme/notify/quiet-hours", json={"start": "22:00", "end": "08:00"}, headers=staff("root", "admin")
    )
    assert allowed.status_code == 200 and allowed.json["quiet_hours"]["start"] == "22:00"
    assert desk.http.get("/v1/tenants/acme/notify/setup", headers=cs).status_code == 200


def test_the_openapi_document_comes_from_the_schemas(desk):
    spec = desk.http.get("/openapi.json").json
    rule = spec["paths"]["/v1/tenants/{tenant}/notify/rules/{kind}"]["put"]
    assert rule["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("RuleBody")
    assert "/v1/tenants/{tenant}/notify/dead-letters/{delivery_id}/retry" in spec["paths"]
