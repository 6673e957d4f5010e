"""Signing in (a password), refreshing and ending a session; the tenant's API keys; the public half
of the keys that sign tokens, for anyone verifying them."""

from __future__ import annotations

from flask import Flask, g, jsonify, make_response, request
from marshmallow import Schema, fields, validate

from shared import web
from shared.errors import DomainError, NotAllowed
from shared.identity.guard import SESSION_COOKIE, caller, public, requires
from shared.identity.principal import SCOPES
from shared.identity.tokens import LIFETIME
from shared.ratelimit import RateLimiter

from services.workflow.api.identity import administrator
from services.workflow.tenancy import Session, SignInFailed, Tenancy

CSRF_COOKIE = "scrm_csrf"  # readable by the page, which sends it back in X-CSRF-Token


class WrongCredentials(DomainError):
    status, code = 401, "sign_in_failed"


class SignInBody(Schema):
    staff = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class PasswordBody(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    current_password = fields.String(validate=validate.Length(min=1, max=128),
                                     metadata={"description": "Your own password, when changing it"})


class SessionView(Schema):
    token = fields.String(metadata={"description": "Send as Authorization: Bearer <token>"})
    csrf = fields.String(metadata={"description": "With the session cookie: send in X-CSRF-Token"})
    expires_at = fields.DateTime()
    staff = fields.String()
    roles = fields.List(fields.String())


class KeyBody(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    scope = fields.String(load_default="read", validate=validate.OneOf(SCOPES))


class KeyView(Schema):
    key_id = fields.String()
    name = fields.String()
    scope = fields.String()
    issued_by = fields.String()
    revoked = fields.Boolean()
    key = fields.String(metadata={"description": "Only in the answer that issued it: keep it, it is shown once"})


class KeyList(Schema):
    keys = fields.List(fields.Nested(KeyView))


def register(app: Flask, tenancy: Tenancy, attempts: RateLimiter) -> None:
    base, doc = "/v1/tenants/<tenant>", "/v1/tenants/{tenant}"

    @app.get("/.well-known/jwks.json")
    @public
    def jwks():
        return jsonify(keys=list(tenancy.keys.public().keys))

    @app.post(f"{base}/sessions")
    @public
    def sign_in(tenant: str):
        body = web.json_body(SignInBody())
        attempts.take((tenant, body["staff"], request.remote_addr))  # guessing passwords takes forever
        try:
            session = tenancy.sign_in(tenant, body["staff"], body["password"])
        except SignInFailed:
            raise WrongCredentials("wrong staff id or password") from None
        return answer(session, 201)

    @app.post(f"{base}/sessions/refresh")
    def refresh(tenant: str):
        try:
            return answer(tenancy.refresh(caller(), g.get("claims") or {}), 200)
        except SignInFailed:
            raise WrongCredentials("sign in again") from None

    @app.delete(f"{base}/sessions/current")
    def sign_out(tenant: str):
        response = make_response("", 204)
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/")
        return response

    @app.put(f"{base}/staff/<user>/password")
    def set_password(tenant: str, user: str):
        body = web.json_body(PasswordBody())
        if caller().staff == user:  # one's own: only with the current one (a token left on a screen is not enough)
            if not tenancy.check_password(tenant, user, body.get("current_password", "")):
                raise NotAllowed("give your current password to change it", rule="current_password")
            by = user
        else:
            by = administrator()
        tenancy.set_password(tenant, user, body["password"], by)
        return "", 204

    @app.get(f"{base}/api-keys")
    @requires("admin")
    def list_keys(tenant: str):
        access = tenancy.access(tenant)
        return jsonify(keys=[k.to_dict() for k in access.keys.values()])

    @app.post(f"{base}/api-keys")
    @requires("admin")
    def issue_key(tenant: str):
        body = web.json_body(KeyBody())
        issued, key = tenancy.issue_key(tenant, body["name"], body["scope"], caller().subject)
        return jsonify({**issued.to_dict(), "key": key}), 201

    @app.delete(f"{base}/api-keys/<key_id>")
    @requires("admin")
    def revoke_key(tenant: str, key_id: str):
        return jsonify(tenancy.revoke_key(tenant, key_id, caller().subject).to_dict())

    web.document(app, "get", "/.well-known/jwks.json", "The public keys that verify staff tokens",
                 responses={200: "JSON Web Key Set"})
    web.document(app, "post", f"{doc}/sessions", "Sign in with a password (sets the session cookie)",
                 body=SignInBody, responses={201: SessionView, 401: "Wrong staff id or password",
                                             429: "Too many attempts"})
    web.document(app, "post", f"{doc}/sessions/refresh", "A new token for a signed-in member",
                 responses={200: SessionView, 401: "Sign in again"})
    web.document(app, "delete", f"{doc}/sessions/current", "Sign out (drops the session cookie)",
                 responses={204: "Signed out"})
    web.document(app, "put", f"{doc}/staff/{{user}}/password", "Set a member's password (administrators), or "
                 "change your own (with your current one)", body=PasswordBody, responses={204: "Set"})
    web.document(app, "get", f"{doc}/api-keys", "The tenant's API keys (administrators)", responses={200: KeyList})
    web.document(app, "post", f"{doc}/api-keys", "Issue an API key (shown once)", body=KeyBody,
                 responses={201: KeyView})
    web.document(app, "delete", f"{doc}/api-keys/{{key_id}}", "Revoke an API key, at once",
                 responses={200: KeyView, 404: "No such key"})


def answer(session: Session, status: int):
    response = jsonify(token=session.token, csrf=session.csrf, expires_at=session.expires_at.isoformat(),
                       staff=session.principal.subject, roles=list(session.principal.roles))
    secure = request.is_secure
    response.status_code = status
    response.set_cookie(SESSION_COOKIE, session.token, max_age=LIFETIME, httponly=True, secure=secure,
                        samesite="Strict", path="/")
    response.set_cookie(CSRF_COOKIE, session.csrf, max_age=LIFETIME, httponly=False, secure=secure,
                        samesite="Strict", path="/")
    return response
