"""Signing in with WeCom (services/workflow/wecom_sign_in.py), and the tenant's WeCom sign-in set-up
(administrators: the corp id and its app's secret, sealed and shown masked)."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from shared.errors import Invalid
from shared.identity.guard import public, requires
from shared.ratelimit import RateLimiter
from shared.restapi import Blueprint
from shared.secrets import SecretBox, SecretsUnavailable, masked

from services.workflow.accounts import Credentials, credentials_id
from services.workflow.api.identity import administrator
from services.workflow.api.sessions import COOKIES, SessionView, WrongCredentials, answer
from services.workflow.tenancy import SignInFailed
from services.workflow.wecom_sign_in import WeComSignIn

# Per tenant and address: a code is one use and unguessable, so this only spares WeCom a flood; an
# office behind one address signs its staff in at nine o'clock.
WECOM_ATTEMPTS = RateLimiter(per_minute=60, burst=60)


class CodeBody(Schema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=512),
        metadata={"description": "The code WeCom's authorize page gave the browser"},
    )


class WeComCorpBody(Schema):
    corp_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    secret = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "The secret of the corp's app that signs staff in"},
    )


class WeComCorpView(Schema):
    corp_id = fields.String(allow_none=True, metadata={"description": "None: no WeCom sign-in"})
    secret = fields.String(allow_none=True, metadata={"description": "Masked"})


def blueprint(sign_in: WeComSignIn, box: SecretBox, attempts: RateLimiter = WECOM_ATTEMPTS) -> Blueprint:
    blp = Blueprint(
        "wecom-sign-in",
        __name__,
        url_prefix="/v1/tenants/<tenant>",
        description="Signing in with WeCom, and the tenant's WeCom sign-in set-up",
    )
    workflow = sign_in.tenancy.workflow

    @blp.route("/sessions/wecom", methods=["POST"])
    @blp.arguments(CodeBody)
    @blp.response(201, SessionView, headers=COOKIES)
    @blp.refuses(
        {
            401: "Not a member of the staff, or a bad code",
            429: "Too many attempts (Retry-After)",
            503: "WeCom cannot be asked",
        }
    )
    @public
    def sign_in_with_wecom(body: dict, tenant: str):
        """Sign in with a WeCom OAuth code (sets the session cookie)

        Public: the code is WeCom's proof, exchanged at WeCom for the member's userid; attempts are limited per
        tenant and address."""
        attempts.take((tenant, "wecom", request.remote_addr))
        try:
            return answer(sign_in.sign_in(tenant, body["code"]), 201)
        except SignInFailed:
            raise WrongCredentials("WeCom did not sign in a member of this tenant's staff") from None

    def shown(tenant: str) -> dict:
        found = workflow.find(credentials_id(tenant), tenant, Credentials)
        if found is None or found.wecom is None:
            return {"corp_id": None, "secret": None}
        try:
            secret = masked(box.open(found.wecom.secret))
        except SecretsUnavailable:
            secret = "(no key opens it)"
        return {"corp_id": found.wecom.corp_id, "secret": secret}

    @blp.route("/sign-in/wecom", methods=["GET"])
    @blp.response(200, WeComCorpView)
    @requires("admin")
    def wecom_set_up(tenant: str):
        """The WeCom corp whose members sign in (administrators)"""
        return shown(tenant)

    @blp.route("/sign-in/wecom", methods=["PUT"])
    @blp.arguments(WeComCorpBody)
    @blp.response(200, WeComCorpView)
    @requires("admin")
    def set_up_wecom(body: dict, tenant: str):
        """Let the members of a WeCom corp sign in with WeCom (administrators)"""
        try:
            sign_in.tenancy.set_wecom(tenant, body["corp_id"], body["secret"], box.seal, administrator())
        except SecretsUnavailable as e:
            raise Invalid(str(e)) from None
        return shown(tenant)

    return blp
