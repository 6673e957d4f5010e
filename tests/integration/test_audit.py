"""The audit trail of every service: who changed the tenant's set-up (templates, staff, channels, the price
book, notify's provider accounts), when and how; only its administrators read it, another tenant cannot."""

from __future__ import annotations

import pytest

from shared.secrets import KEYS_VARIABLE, SecretBox
from shared.settings import SERVICES

from services.intake import bootstrap as intake
from tests.support.identity import admin, bearer, issue_key, open_tenant, replicate, staff
from tests.support.tenant import ADMIN, TENANT, signed_in, tenant  # noqa: F401 - fixture

AUDIT = f"/v1/tenants/{TENANT}/audit"
TOKEN, AES_KEY = "chanToken42", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"


@pytest.fixture(autouse=True)
def secret_keys(monkeypatch):
    monkeypatch.setenv(KEYS_VARIABLE, SecretBox.new_key())


@pytest.fixture
def changed(tenant):  # noqa: F811
    """A change of each kind: channel credentials (intake's operator), a price-book tier, a provider account."""
    desk = intake.application(tenant.settings)
    desk.configure(
        TENANT, lambda s: s.configure_wecom(TOKEN, AES_KEY, "ww1", "1000002", seal=desk.secrets.seal, by="ops-1")
    )
    tier = tenant.client("settlement").put(
        f"/v1/tenants/{TENANT}/price-book/tiers/tier-9", headers=admin(), json={"currency": "CNY"}
    )
    assert tier.status_code == 200, tier.json
    account = tenant.client("notify").put(
        f"/v1/tenants/{TENANT}/notify/providers/sms",
        headers=admin(),
        json={"app_key": "k1", "secret": "sms-secret-123", "sign_name": "签名"},
    )
    assert account.status_code == 200, account.json
    return tenant


def entries(tenant, service: str, **query) -> dict:  # noqa: F811
    answer = tenant.client(service).get(AUDIT, headers=signed_in(service), query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_each_service_tells_who_changed_what_and_when_newest_first(changed):
    workflow = entries(changed, "workflow", limit=500)
    seen = {(e["subject"], e["what"], e["by"]) for e in workflow["entries"]}
    assert {
        ("templates", "Published", ADMIN),
        ("staff", "MemberSaved", ADMIN),
        ("staff", "SiteSaved", ADMIN),
        ("api_keys", "KeyIssued", "tests"),
        ("passwords", "PasswordSet", "tests"),
    } <= seen
    times = [e["at"] for e in workflow["entries"]]
    assert times == sorted(times, reverse=True) and workflow["total"] == len(workflow["entries"])
    page = entries(changed, "workflow", limit=2, offset=1)
    assert page["entries"] == workflow["entries"][1:3] and page["total"] == workflow["total"]

    (wecom,) = [e for e in entries(changed, "intake")["entries"] if e["what"] == "WeComConfigured"]
    assert wecom["by"] == "ops-1" and wecom["details"]["corp_id"] == "ww1"
    assert set(wecom["details"]) == {"corp_id", "agent_id", "sealed"}  # the secrets left out

    price_book = [e for e in entries(changed, "settlement")["entries"] if e["subject"] == "pricebook"]
    assert price_book[0]["by"] == ADMIN and price_book[0]["details"]["section"] == "tier"
    (sms,) = [e for e in entries(changed, "notify")["entries"] if e["subject"] == "providers"]
    assert sms["by"] == ADMIN and "secret" not in sms["details"]["account"]


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_tenants_administrators_read_it(changed, service):
    c = changed.client(service)
    technician, key = staff("technician-1", "technician"), bearer(issue_key(changed.settings, "write"))
    replicate(changed.settings, *_followers())  # the other services learn of the key
    for headers in (technician, key):
        refused = c.get(AUDIT, headers=headers)
        assert refused.status_code == 403 and "entries" not in refused.json
    assert c.get(AUDIT).status_code == 401

    open_tenant(changed.settings, "globex")
    replicate(changed.settings, *_followers())
    other = c.get(AUDIT, headers=admin("globex"))  # another tenant's administrator: no such thing here
    assert other.status_code == 404 and "entries" not in other.json
    assert c.get("/v1/tenants/globex/audit", headers=admin("globex")).status_code == 200


def _followers():
    from services.notify import bootstrap as notify
    from services.settlement import bootstrap as settlement

    return intake, settlement, notify
