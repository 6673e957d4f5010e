"""Signing in, the session cookie with its CSRF token, refreshing, signing out, passwords and API keys,
over workflow's HTTP API in-process (SQLite): each answer as its schema documents it, the cookies too."""

from __future__ import annotations

import pytest

from shared.identity.guard import CSRF_HEADER, SESSION_COOKIE
from shared.ratelimit import RateLimiter
from shared.settings import Settings

from services.workflow import bootstrap
from services.workflow.api import create_app
from services.workflow.api.sessions import CSRF_COOKIE
from tests.support.identity import ADMIN_PASSWORD, KEYS_FILE, admin, bearer, identity_of, open_tenant

BASE = "/v1/tenants/acme"


@pytest.fixture
def http(tmp_path):
    settings = Settings(data_dir=tmp_path, token_keys=KEYS_FILE)
    open_tenant(settings)
    workflow = bootstrap.application(settings)
    yield create_app(workflow, identity_of(workflow), RateLimiter(per_minute=600, burst=100)).test_client()
    workflow.close()


def sign_in(http, staff: str = "admin", password: str = ADMIN_PASSWORD):
    return http.post(f"{BASE}/sessions", json={"staff": staff, "password": password})


def test_signing_in_answers_the_session_and_sets_its_cookies(http):
    answer = sign_in(http)
    assert answer.status_code == 201
    body = answer.get_json()
    assert set(body) == {"token", "csrf", "expires_at", "staff", "roles"}
    assert body["staff"] == "admin" and body["roles"] == ["admin"] and body["expires_at"].endswith("+00:00")
    cookies = {c.split("=", 1)[0]: c for c in answer.headers.getlist("Set-Cookie")}
    assert (
        cookies[SESSION_COOKIE].startswith(f"{SESSION_COOKIE}={body['token']};")
        and "HttpOnly" in cookies[SESSION_COOKIE]
    )
    assert cookies[CSRF_COOKIE].startswith(f"{CSRF_COOKIE}={body['csrf']};") and "HttpOnly" not in cookies[CSRF_COOKIE]
    assert "SameSite=Strict" in cookies[SESSION_COOKIE]
    assert http.get(f"{BASE}/whoami").get_json()["subject"] == "admin"  # the cookie alone reads


def test_a_wrong_password_is_a_401_and_a_bad_body_a_400(http):
    wrong = sign_in(http, password="nope")
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "sign_in_failed"
    assert not wrong.headers.getlist("Set-Cookie")
    bad = http.post(f"{BASE}/sessions", json={"staff": ""})
    assert bad.status_code == 400 and set(bad.get_json()["error"]["details"]["fields"]) == {"staff", "password"}


def test_a_session_writes_only_with_its_csrf_token_refreshes_and_signs_out(http):
    csrf = sign_in(http).get_json()["csrf"]
    refused = http.post(f"{BASE}/sessions/refresh")
    assert refused.status_code == 403 and refused.get_json()["error"]["details"]["rule"] == "csrf"
    refreshed = http.post(f"{BASE}/sessions/refresh", headers={CSRF_HEADER: csrf})
    assert refreshed.status_code == 200 and SESSION_COOKIE in refreshed.headers["Set-Cookie"]
    csrf = refreshed.get_json()["csrf"]
    out = http.delete(f"{BASE}/sessions/current", headers={CSRF_HEADER: csrf})
    assert out.status_code == 204 and out.data == b""
    dropped = out.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in dropped} == {SESSION_COOKIE, CSRF_COOKIE}
    assert all("Expires=Thu, 01 Jan 1970" in c for c in dropped)
    assert http.get(f"{BASE}/whoami").status_code == 401


def test_passwords_are_set_by_administrators_and_changed_with_the_current_one(http):
    assert http.put(f"{BASE}/staff/ops-1", json={"roles": ["supervisor"]}, headers=admin()).status_code == 200
    assert (
        http.put(f"{BASE}/staff/ops-1/password", json={"password": "first password"}, headers=admin()).status_code
        == 204
    )
    token = sign_in(http, "ops-1", "first password").get_json()["token"]
    own = {"Authorization": f"Bearer {token}"}
    refused = http.put(f"{BASE}/staff/ops-1/password", json={"password": "second password"}, headers=own)
    assert refused.status_code == 403 and refused.get_json()["error"]["details"]["rule"] == "current_password"
    changed = http.put(
        f"{BASE}/staff/ops-1/password",
        json={"password": "second password", "current_password": "first password"},
        headers=own,
    )
    assert changed.status_code == 204 and sign_in(http, "ops-1", "second password").status_code == 201
    missing = http.put(f"{BASE}/staff/nobody/password", json={"password": "long enough password"}, headers=admin())
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_api_keys_are_issued_once_listed_without_their_secret_and_revoked(http):
    issued = http.post(f"{BASE}/api-keys", json={"name": "erp", "scope": "write"}, headers=admin())
    assert issued.status_code == 201
    key = issued.get_json()
    assert set(key) == {"key_id", "name", "scope", "issued_by", "revoked", "key"} and key["revoked"] is False
    assert http.get(f"{BASE}/whoami", headers=bearer(key["key"])).get_json()["kind"] == "api_key"
    listed = http.get(f"{BASE}/api-keys", headers=admin()).get_json()["keys"]
    assert [k["key_id"] for k in listed] == [key["key_id"]] and "key" not in listed[0]
    assert http.post(f"{BASE}/api-keys", json={"name": "x", "scope": "root"}, headers=admin()).status_code == 400
    assert http.get(f"{BASE}/api-keys", headers=bearer(key["key"])).status_code == 403  # write is not admin
    revoked = http.delete(f"{BASE}/api-keys/{key['key_id']}", headers=admin())
    assert revoked.status_code == 200 and revoked.get_json()["revoked"] is True
    assert http.get(f"{BASE}/whoami", headers=bearer(key["key"])).status_code == 401
    assert http.delete(f"{BASE}/api-keys/nope", headers=admin()).status_code == 404


def test_the_jwks_is_public(http):
    keys = http.get("/.well-known/jwks.json")
    assert keys.status_code == 200 and keys.get_json()["keys"][0]["kty"] == "OKP"
