"""Signing in with WeCom (services/workflow/wecom_sign_in.py), and the tenant's WeCom sign-in set-up
(administrators: the corp id and its app's secret, sealed and shown masked)."""

from __future__ import annotations

from flask import Flask, jsonify, request
from marshmallow import Schema, fields, validate

from shared import web
from shared.errors import Invalid
from shared.identity.guard import public, requires
from shared.ratelimit import RateLimiter
from shared.secrets import SecretBox, SecretsUnavailable, masked

from services.workflow.accounts import Credentials, credentials_id
from services.workflow.api.identity import administrator
from services.workflow.api.sessions import SessionView, WrongCredentials, answer
from services.workflow.tenancy import SignInFailed
from services.workflow.wecom_sign_in import WeComSignIn

# Per tenant and address: a code is one use and unguessable, so this only spares WeCom a flood; an
# office behind one address signs its staff in at nine o'clock.
WECOM_ATTEMPTS = RateLimiter(per_minute=60, burst=60)


class CodeBody(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=512),
                         metadata={"description": "The code WeCom's authorize page gave the browser"})


class WeComCorpBody(Schema):
    corp_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    secret = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256),
                           metadata={"description": "The secret of the corp's app that signs staff in"})


class WeComCorpView(Schema):
    corp_id = fields.String(allow_none=True, metadata={"description": "None: no WeCom sign-in"})
    secret = fields.String(allow_none=True, metadata={"description": "Masked"})


def register(app: Flask, sign_in: WeComSignIn, box: SecretBox, attempts: RateLimiter = WECOM_ATTEMPTS) -> None:
    base, doc = "/v1/tenants/<tenant>", "/v1/tenants/{tenant}"
    workflow = sign_in.tenancy.workflow

    @app.post(f"{base}/sessions/wecom")
    @public
    def sign_in_with_wecom(tenant: str):
        body = web.json_body(CodeBody())
        attempts.take((tenant, "wecom", request.remote_addr))
        try:
            return answer(sign_in.sign_in(tenant, body["code"]), 201)
        except SignInFailed:
            raise WrongCredentials("WeCom did not sign in a member of this tenant's staff") from None

    web.document(app, "post", f"{doc}/sessions/wecom", "Sign in with a WeCom OAuth code (sets the session cookie)",
                 body=CodeBody, responses={201: SessionView, 401: "Not a member of the staff, or a bad code",
                                           429: "Too many attempts", 503: "WeCom cannot be asked"})

    def shown(tenant: str) -> dict:
        found = workflow.find(credentials_id(tenant), tenant, Credentials)
        if found is None or found.wecom is None:
            return {"corp_id": None, "secret": None}
        try:
            secret = masked(box.open(found.wecom.secret))
        except SecretsUnavailable:
            secret = "(no key opens it)"
        return {"corp_id": found.wecom.corp_id, "secret": secret}

    @app.get(f"{base}/sign-in/wecom")
    @requires("admin")
    def wecom_set_up(tenant: str):
        return jsonify(shown(tenant))

    @app.put(f"{base}/sign-in/wecom")
    @requires("admin")
    def set_up_wecom(tenant: str):
        by, body = administrator(), web.json_body(WeComCorpBody())
        try:
            sign_in.tenancy.set_wecom(tenant, body["corp_id"], body["secret"], box.seal, by)
        except SecretsUnavailable as e:
            raise Invalid(str(e)) from None
        return jsonify(shown(tenant))

    web.document(app, "get", f"{doc}/sign-in/wecom", "The WeCom corp whose members sign in (administrators)",
                 responses={200: WeComCorpView})
    web.document(app, "put", f"{doc}/sign-in/wecom", "Let the members of a WeCom corp sign in with WeCom "
                 "(administrators)", body=WeComCorpBody, responses={200: WeComCorpView})
