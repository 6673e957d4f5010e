"""Signing in (a password), refreshing and ending a session; the tenant's API keys; the public half
of the keys that sign tokens, for anyone verifying them."""

from __future__ import annotations

from flask import Response, after_this_request, g, request
from marshmallow import Schema, fields, validate

from shared.errors import DomainError, NotAllowed
from shared.identity.guard import SESSION_COOKIE, caller, public, requires
from shared.identity.principal import SCOPES
from shared.identity.tokens import LIFETIME
from shared.ratelimit import RateLimiter
from shared.restapi import Blueprint

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
    current_password = fields.String(
        validate=validate.Length(min=1, max=128), metadata={"description": "Your own password, when changing it"}
    )


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


class KeySet(Schema):
    keys = fields.List(fields.Dict(), metadata={"description": "JSON Web Keys (OKP, Ed25519)"})


COOKIES = {
    "Set-Cookie": {
        "description": f"{SESSION_COOKIE} (HttpOnly: the token) and {CSRF_COOKIE} (for the "
        "page to read and send back in X-CSRF-Token)",
        "schema": {"type": "string"},
    }
}


def blueprints(tenancy: Tenancy, attempts: RateLimiter) -> list[Blueprint]:
    return [_sessions(tenancy, attempts), _api_keys(tenancy)]


def _sessions(tenancy: Tenancy, attempts: RateLimiter) -> Blueprint:
    blp = Blueprint("sessions", __name__, description="Signing in, refreshing and ending a session; passwords")
    base = "/v1/tenants/<tenant>"

    @blp.route("/.well-known/jwks.json", methods=["GET"])
    @blp.response(200, KeySet)
    @public
    def jwks():
        """The public keys that verify staff tokens

        Public: public keys, for anyone verifying a token."""
        return {"keys": list(tenancy.keys.public().keys)}

    @blp.route(f"{base}/sessions", methods=["POST"])
    @blp.arguments(SignInBody)
    @blp.response(201, SessionView, headers=COOKIES)
    @blp.refuses({401: "Wrong staff id or password", 429: "Too many attempts (Retry-After)"})
    @public
    def sign_in(body: dict, tenant: str):
        """Sign in with a password (sets the session cookie)

        Public: the password is the check; attempts are limited per tenant, staff id and address."""
        attempts.take((tenant, body["staff"], request.remote_addr))  # guessing passwords takes forever
        try:
            session = tenancy.sign_in(tenant, body["staff"], body["password"])
        except SignInFailed:
            raise WrongCredentials("wrong staff id or password") from None
        return answer(session, 201)

    @blp.route(f"{base}/sessions/refresh", methods=["POST"])
    @blp.response(200, SessionView, headers=COOKIES)
    @blp.refuses({401: "Sign in again (the member is gone or their sessions were ended)"})
    def refresh(tenant: str):
        """A new token for a signed-in member"""
        try:
            return answer(tenancy.refresh(caller(), g.get("claims") or {}), 200)
        except SignInFailed:
            raise WrongCredentials("sign in again") from None

    @blp.route(f"{base}/sessions/current", methods=["DELETE"])
    @blp.response(204, description="Signed out: the cookies are dropped")
    def sign_out(tenant: str):
        """Sign out (drops the session cookie)"""

        @after_this_request
        def drop_cookies(response: Response) -> Response:
            for name in (SESSION_COOKIE, CSRF_COOKIE):
                response.delete_cookie(name, path="/")
            return response

    @blp.route(f"{base}/staff/<user>/password", methods=["PUT"])
    @blp.arguments(PasswordBody)
    @blp.response(204, description="Set")
    @blp.refuses(
        {
            403: "Not an administrator, or your own without your current password",
            404: "Not in the staff directory",
            409: "Changed meanwhile; try again",
        }
    )
    def set_password(body: dict, tenant: str, user: str):
        """Set a member's password (administrators), or change your own (with your current one)"""
        if caller().staff == user:  # one's own: only with the current one (a token left on a screen is not enough)
            if not tenancy.check_password(tenant, user, body.get("current_password", "")):
                raise NotAllowed("give your current password to change it", rule="current_password")
            by = user
        else:
            by = administrator()
        tenancy.set_password(tenant, user, body["password"], by)

    return blp


def _api_keys(tenancy: Tenancy) -> Blueprint:
    blp = Blueprint(
        "api-keys",
        __name__,
        url_prefix="/v1/tenants/<tenant>/api-keys",
        description="The tenant's API keys, for its own systems (administrators)",
    )

    @blp.route("", methods=["GET"])
    @blp.response(200, KeyList)
    @requires("admin")
    def list_keys(tenant: str):
        """The tenant's API keys (administrators)"""
        access = tenancy.access(tenant)
        return {"keys": [k.to_dict() for k in access.keys.values()]}

    @blp.route("", methods=["POST"])
    @blp.arguments(KeyBody)
    @blp.response(201, KeyView)
    @blp.refuses({409: "Changed meanwhile; try again"})
    @requires("admin")
    def issue_key(body: dict, tenant: str):
        """Issue an API key (shown once)"""
        issued, key = tenancy.issue_key(tenant, body["name"], body["scope"], caller().subject)
        return {**issued.to_dict(), "key": key}

    @blp.route("/<key_id>", methods=["DELETE"])
    @blp.response(200, KeyView)
    @blp.refuses({404: "No such key", 409: "Changed meanwhile; try again"})
    @requires("admin")
    def revoke_key(tenant: str, key_id: str):
        """Revoke an API key, at once"""
        return tenancy.revoke_key(tenant, key_id, caller().subject).to_dict()

    return blp


def answer(session: Session, status: int) -> tuple[dict, int]:
    """The session, with its cookies set on the answer."""

    @after_this_request
    def set_cookies(response: Response) -> Response:
        secure = request.is_secure
        response.set_cookie(
            SESSION_COOKIE, session.token, max_age=LIFETIME, httponly=True, secure=secure, samesite="Strict", path="/"
        )
        response.set_cookie(
            CSRF_COOKIE, session.csrf, max_age=LIFETIME, httponly=False, secure=secure, samesite="Strict", path="/"
        )
        return response

    return {
        "token": session.token,
        "csrf": session.csrf,
        "expires_at": session.expires_at,
        "staff": session.principal.subject,
        "roles": list(session.principal.roles),
    }, status
