"""Signing in with WeCom over HTTP, against a local stand-in for WeCom's server API on 127.0.0.1: the
code is exchanged for the member's userid (gettoken, auth/getuserinfo) and the staff member with that
WeCom userid gets the same session a password gives; anyone else, or a bad code, gets a 401."""

from __future__ import annotations

import pytest

from shared.ratelimit import RateLimiter
from shared.secrets import KEYS_VARIABLE, SecretBox

from services.workflow import bootstrap
from services.workflow.api import create_app
from tests.support.identity import SignedIn, admin, bearer, identity_of, open_tenant, staff
from tests.support.providers import FakeWeCom

CORP, SECRET = "wwcorp1", "corp-app-secret-0001"
SIGN_IN = "/v1/tenants/acme/sessions/wecom"


@pytest.fixture
def wecom():
    with FakeWeCom(CORP, SECRET) as server:
        yield server


@pytest.fixture
def http(settings, wecom, monkeypatch):
    monkeypatch.setenv(KEYS_VARIABLE, SecretBox.new_key())
    open_tenant(settings)
    open_tenant(settings, "globex")
    workflow = bootstrap.application(settings)
    app = create_app(
        workflow, identity_of(workflow), attempts=RateLimiter(per_minute=1000, burst=1000), wecom_url=wecom.url
    )
    http = SignedIn(app.test_client(), admin())
    for user, member in {
        "zhangsan": {"roles": ["technician"], "wecom_userid": "ZhangSan"},
        "lisi": {"roles": ["dispatcher"]},
    }.items():
        assert http.put(f"/v1/tenants/acme/staff/{user}", json=member).status_code == 200
    set_up = http.put("/v1/tenants/acme/sign-in/wecom", json={"corp_id": CORP, "secret": SECRET})
    assert set_up.status_code == 200 and set_up.json["corp_id"] == CORP and SECRET not in set_up.text
    return http


def signed_in(http, wecom, code: str, given: dict | None, tenant: str = "acme"):
    if given is not None:
        wecom.codes[code] = given
    return http.post(f"/v1/tenants/{tenant}/sessions/wecom", json={"code": code}, headers={})


def test_a_member_signs_in_with_the_code_wecom_gave_them(http, wecom):
    answer = signed_in(http, wecom, "code-1", {"userid": "ZhangSan"})
    assert answer.status_code == 201 and (answer.json["staff"], answer.json["roles"]) == ("zhangsan", ["technician"])
    assert "scrm_session" in answer.headers.get("Set-Cookie", "")
    me = http.get("/v1/tenants/acme/whoami", headers=bearer(answer.json["token"])).json
    assert (me["subject"], me["kind"]) == ("zhangsan", "staff")
    by_user_id = signed_in(http, wecom, "code-2", {"userid": "lisi"})  # no WeCom userid given: their user id
    assert by_user_id.status_code == 201 and by_user_id.json["staff"] == "lisi"
    assert len(wecom.to("/cgi-bin/gettoken")) == 1  # the corp's access token is kept


def test_a_stranger_a_bad_code_or_a_tenant_without_wecom_get_a_401(http, wecom):
    for code, given, tenant in (
        ("code-3", {"userid": "stranger"}, "acme"),  # in the corp, not on the staff
        ("code-4", {"openid": "o-1", "external_userid": "wm-1"}, "acme"),  # not in the corp
        ("no-such-code", None, "acme"),
        ("code-5", {"userid": "ZhangSan"}, "globex"),  # no WeCom sign-in there
        ("code-6", {"userid": "ZhangSan"}, "nowhere"),
    ):  # no such tenant
        refused = signed_in(http, wecom, code, given, tenant)
        assert refused.status_code == 401 and refused.json["error"]["code"] == "sign_in_failed", (code, refused.json)
        assert "token" not in refused.json
    used = signed_in(http, wecom, "code-7", {"userid": "ZhangSan"})
    assert used.status_code == 201 and signed_in(http, wecom, "code-7", None).status_code == 401  # once only


def test_an_expired_token_is_replaced_and_wecom_down_or_a_wrong_secret_is_a_503(http, wecom):
    assert signed_in(http, wecom, "code-8", {"userid": "ZhangSan"}).status_code == 201
    wecom.expire_once = True
    assert signed_in(http, wecom, "code-9", {"userid": "ZhangSan"}).status_code == 201
    assert len(wecom.to("/cgi-bin/gettoken")) == 2
    wecom.down = True
    assert signed_in(http, wecom, "code-10", {"userid": "ZhangSan"}).status_code == 503
    wecom.down = False
    assert (
        http.put(
            "/v1/tenants/globex/sign-in/wecom", json={"corp_id": CORP, "secret": "wrong"}, headers=admin("globex")
        ).status_code
        == 200
    )
    wrong = signed_in(http, wecom, "code-11", {"userid": "ZhangSan"}, "globex")
    assert wrong.status_code == 503 and "wrong" not in wrong.text


def test_only_administrators_set_it_up_and_see_the_secret_masked(http):
    shown = http.get("/v1/tenants/acme/sign-in/wecom").json
    assert shown["corp_id"] == CORP and shown["secret"] != SECRET and SECRET not in str(shown)
    assert http.get("/v1/tenants/acme/sign-in/wecom", headers={}).status_code == 401
    technician = staff("zhangsan", "technician")
    assert (
        http.put(
            "/v1/tenants/acme/sign-in/wecom", json={"corp_id": "evil", "secret": "s"}, headers=technician
        ).status_code
        == 403
    )
    assert http.get("/v1/tenants/acme/sign-in/wecom", headers=technician).status_code == 403
    assert http.get("/v1/tenants/acme/sign-in/wecom", headers=admin("globex")).status_code == 404
