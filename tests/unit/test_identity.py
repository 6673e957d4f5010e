"""The identity kernel every service checks callers with (shared/identity)."""

import time
from datetime import UTC, datetime
from uuid import uuid4

import jwt
import pytest
from flask import Flask, jsonify

from shared import web
from shared.envelope import Envelope
from shared.eventstore import UnitOfWork
from shared.identity import apikeys
from shared.identity.access import TenantAccess, access_id, access_policy
from shared.identity.guard import SESSION_COOKIE, Identity, caller, public, requires
from shared.identity.principal import Principal
from shared.identity.tokens import InvalidToken, KeySet

KEYS = KeySet.generate()
ALICE = Principal("acme", "alice", "staff", ("admin",), ("read", "write", "admin"))
BOB = Principal("acme", "bob", "staff", ("technician",), ("read", "write"))


# --- tokens -----------------------------------------------------------------------------------


def test_a_token_carries_tenant_staff_and_roles_and_verifies_with_the_public_half():
    claims = KEYS.public().verify(KEYS.sign(ALICE))
    assert (claims["tenant"], claims["sub"], claims["roles"]) == ("acme", "alice", ["admin"])


def test_a_token_from_other_keys_or_expired_or_tampered_is_refused():
    with pytest.raises(InvalidToken):
        KEYS.verify(KeySet.generate().sign(ALICE))
    with pytest.raises(InvalidToken):
        KEYS.verify(KEYS.sign(ALICE, lifetime=-120))
    header, payload, signature = KEYS.sign(BOB).split(".")
    forged = KEYS.sign(ALICE).split(".")[1]
    with pytest.raises(InvalidToken):
        KEYS.verify(f"{header}.{forged}.{signature}")
    with pytest.raises(InvalidToken):
        KEYS.public().sign(ALICE)  # the public half cannot sign


def test_a_token_checked_once_is_refused_once_it_expires(monkeypatch):
    keys = KeySet.generate()
    token = keys.sign(ALICE, lifetime=60)
    assert keys.verify(token)["sub"] == "alice"
    assert keys.verify(token)["sub"] == "alice"  # its signature is not checked again
    later = datetime.fromtimestamp(time.time() + 60 + 31, UTC)  # past its expiry and the leeway

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return later

    monkeypatch.setattr(time, "time", later.timestamp)
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)  # the library's clock
    with pytest.raises(InvalidToken):
        keys.verify(token)


def test_rotation_keeps_tokens_of_the_previous_key_valid_until_it_is_retired():
    old_token = KEYS.sign(ALICE)
    rotated = KEYS.rotated()
    assert rotated.verify(old_token)["sub"] == "alice"
    assert rotated.verify(rotated.sign(BOB))["sub"] == "bob"
    retired = rotated.without(KEYS.keys[0]["kid"])
    with pytest.raises(InvalidToken):
        retired.verify(old_token)
    with pytest.raises(ValueError):
        rotated.without(rotated.keys[0]["kid"])  # the signing key stays until another signs


def test_the_key_file_is_private_to_its_owner(tmp_path):
    path = tmp_path / "keys" / "token-keys.json"
    KEYS.save(path)
    assert path.stat().st_mode & 0o077 == 0
    assert KeySet.load(path) == KEYS


# --- API keys ---------------------------------------------------------------------------------


def access_with_key(scope="write"):
    access = TenantAccess(tenant="acme", name="Acme", created_by="operator")
    key_id, key = apikeys.new_key()
    access.issue_key(key_id, "crm", scope, apikeys.digest(key), "alice")
    return access, key_id, key


def test_a_key_is_admitted_with_its_scope_until_revoked():
    access, key_id, key = access_with_key("write")
    admitted = access.admit(key)
    assert admitted.tenant == "acme" and admitted.scopes == ("read", "write") and admitted.staff is None
    assert access.admit(key[:-1] + ("x" if key[-1] != "x" else "y")) is None
    assert access.admit(f"scrm_{key_id}_guess") is None and access.admit("scrm_nokey_x") is None
    access.revoke_key(key_id, "alice")
    assert access.admit(key) is None


def envelope(type_, data, tenant="acme"):
    return Envelope(
        id=uuid4(), source="scrm/workflow", type=type_, subject=access_id(tenant), time=None, tenant=tenant, data=data
    )


class Store:
    """The unit of work's view of a store: enough for a policy."""

    def __init__(self):
        self.aggregates = {}

    def get(self, id_):
        return self.aggregates.get(id_)

    def add(self, aggregate):
        self.aggregates[aggregate.id] = aggregate


def test_a_followers_copy_admits_and_refuses_what_workflow_does_even_when_events_come_twice():
    _, key_id, key = access_with_key("read")
    store = Store()
    events = [
        envelope("tenant.created", {"name": "Acme", "by": "operator"}),
        envelope(
            "api_key.issued",
            {"key_id": key_id, "name": "crm", "scope": "read", "digest": apikeys.digest(key), "by": "alice"},
        ),
    ]
    for e in events + events:  # redelivered
        access_policy(e, store)
    copy = store.get(access_id("acme"))
    assert copy.admit(key).scopes == ("read",) and len(copy.keys) == 1
    for _ in range(2):
        access_policy(envelope("api_key.revoked", {"key_id": key_id, "by": "alice"}), store)
    assert copy.admit(key) is None


# --- the guard ----------------------------------------------------------------------------------


@pytest.fixture
def app():
    access, key_id, key = access_with_key("read")
    tenants = {"acme": access, "other": TenantAccess(tenant="other", name="Other", created_by="operator")}
    app = web.create_app("test", "test", Identity(KEYS.public(), tenants.get, proxy_secret="s3cret"))
    app.config["KEY"] = key

    @app.get("/v1/tenants/<tenant>/things")
    def things(tenant):
        return jsonify(caller=caller().subject)

    @app.post("/v1/tenants/<tenant>/things")
    def add_thing(tenant):
        return jsonify(caller=caller().subject), 201

    @app.put("/v1/tenants/<tenant>/setup")
    @requires("admin")
    def setup(tenant):
        return "", 204

    @app.post("/v1/tenants/<tenant>/callback")
    @public
    def callback(tenant):
        return "", 204

    return app


def bearer(credential):
    return {"Authorization": f"Bearer {credential}"}


def test_no_credential_is_a_401_with_the_standard_body_and_never_data(app):
    answer = app.test_client().get("/v1/tenants/acme/things")
    assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthenticated"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "caller" not in answer.json
    assert app.test_client().get("/v1/tenants/acme/things", headers=bearer("junk")).status_code == 401
    assert app.test_client().get("/v1/tenants/acme/things", headers={"X-Staff-Id": "alice"}).status_code == 401


def test_a_staff_token_of_the_tenant_gets_in_and_one_of_another_tenant_sees_a_missing_record(app):
    client = app.test_client()
    assert client.get("/v1/tenants/acme/things", headers=bearer(KEYS.sign(BOB))).json == {"caller": "bob"}
    other = KEYS.sign(Principal("other", "mallory", "staff", ("admin",)))
    assert client.get("/v1/tenants/acme/things", headers=bearer(other)).status_code == 404
    nowhere = KEYS.sign(Principal("ghost", "mallory", "staff", ("admin",)))
    assert client.get("/v1/tenants/ghost/things", headers=bearer(nowhere)).status_code == 404


def test_scopes_decide_writes_and_set_up(app):
    client = app.test_client()
    key = app.config["KEY"]
    assert client.get("/v1/tenants/acme/things", headers=bearer(key)).status_code == 200
    assert client.post("/v1/tenants/acme/things", headers=bearer(key)).status_code == 403  # a read key
    assert client.post("/v1/tenants/acme/things", headers=bearer(KEYS.sign(BOB))).status_code == 201
    assert client.put("/v1/tenants/acme/setup", headers=bearer(KEYS.sign(BOB))).status_code == 403
    assert client.put("/v1/tenants/acme/setup", headers=bearer(KEYS.sign(ALICE))).status_code == 204


def test_a_session_cookie_writes_only_with_its_csrf_token(app):
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, KEYS.sign(BOB, csrf="c-1"))
    assert client.get("/v1/tenants/acme/things").json == {"caller": "bob"}
    assert client.post("/v1/tenants/acme/things").status_code == 403
    assert client.post("/v1/tenants/acme/things", headers={"X-CSRF-Token": "c-2"}).status_code == 403
    assert client.post("/v1/tenants/acme/things", headers={"X-CSRF-Token": "c-1"}).status_code == 201


def test_a_trusted_proxy_must_present_the_secret(app):
    client = app.test_client()
    named = {"X-Staff-Id": "carol", "X-Staff-Roles": "technician"}
    assert client.get("/v1/tenants/acme/things", headers={**named, "X-Proxy-Secret": "s3cret"}).json == {
        "caller": "carol"
    }
    assert client.get("/v1/tenants/acme/things", headers={**named, "X-Proxy-Secret": "guess"}).status_code == 401


def test_public_routes_need_no_credential(app):
    client = app.test_client()
    assert client.post("/v1/tenants/acme/callback").status_code == 204
    assert client.get("/healthz").status_code == 200 and client.get("/openapi.json").status_code == 200
