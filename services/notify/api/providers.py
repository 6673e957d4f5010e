"""Provider accounts: the credentials each channel sends with. Secrets are sealed before they are
stored and shown masked, never whole."""

from flask import current_app
from marshmallow import Schema, fields, validate

from shared.errors import Invalid
from shared.restapi import Blueprint
from shared.secrets import SecretsUnavailable

from services.notify.api.caller import administrator, notify

blp = Blueprint(
    "providers",
    __name__,
    url_prefix="/v1/tenants/<tenant>/notify/providers",
    description="Provider accounts (secrets masked)",
)


class AccountBody(Schema):
    corp_id = fields.String(validate=validate.Length(max=128))
    agent_id = fields.String(validate=validate.Length(max=32))
    external_sender = fields.String(validate=validate.Length(max=64))
    app_id = fields.String(validate=validate.Length(max=128))
    app_key = fields.String(validate=validate.Length(max=128))
    sign_name = fields.String(validate=validate.Length(max=32))
    sms_template = fields.String(validate=validate.Length(max=64))
    sender = fields.String(validate=validate.Length(max=320))
    username = fields.String(validate=validate.Length(max=320))
    secret = fields.String(validate=validate.Length(max=512), load_only=True)
    password = fields.String(validate=validate.Length(max=512), load_only=True)


class AccountsView(Schema):
    accounts = fields.Dict(metadata={"description": "channel -> settings, secrets masked"})


def _shown(tenant: str) -> dict:
    box = current_app.extensions["secrets"]
    return {"accounts": notify().providers(tenant).shown(box.open)}


@blp.route("")
@blp.response(200, AccountsView)
def accounts(tenant: str):
    """The tenant's provider accounts, secrets masked"""
    administrator(tenant)
    return _shown(tenant)


@blp.route("/<channel>", methods=["PUT"])
@blp.arguments(AccountBody)
@blp.response(200, AccountsView)
def configure(body: dict, tenant: str, channel: str):
    """Set a channel's account: wecom (corp_id, agent_id, secret, external_sender), official_account
    (app_id, secret), sms (app_key, secret, sign_name, sms_template), email (sender, username, password)"""
    by, box = administrator(tenant), current_app.extensions["secrets"]
    try:
        notify().change_providers(tenant, lambda p: p.configure(channel, body, box.seal, by))
    except SecretsUnavailable as e:
        raise Invalid(str(e)) from None
    return _shown(tenant)
