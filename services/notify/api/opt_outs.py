"""Opt-outs per channel address and kind of message (a customer's TD / 退订 arrives through intake)."""

from marshmallow import Schema, fields, validate

from shared.restapi import Blueprint

from services.notify.api.caller import administrator, caller, notify

blp = Blueprint(
    "opt_outs",
    __name__,
    url_prefix="/v1/tenants/<tenant>/notify/opt-outs",
    description="Who does not want which messages",
)


class OptOutBody(Schema):
    kinds = fields.List(
        fields.String(validate=validate.Length(max=32)),
        load_default=list,
        metadata={"description": "Kinds of message; none or *: all"},
    )


class OptOutView(Schema):
    channel = fields.String()
    address = fields.String()
    kinds = fields.List(fields.String())


def _view(found) -> dict:
    return {"channel": found.channel, "address": found.address, "kinds": sorted(found.kinds)}


@blp.route("/<channel>/<path:address>")
@blp.response(200, OptOutView)
def get_opt_out(tenant: str, channel: str, address: str):
    """What this address has opted out of"""
    caller(tenant)
    return _view(notify().opt_out(tenant, channel, address))


@blp.route("/<channel>/<path:address>", methods=["PUT"])
@blp.arguments(OptOutBody)
@blp.response(200, OptOutView)
def opt_out(body: dict, tenant: str, channel: str, address: str):
    """Opt this address out of these kinds of message"""
    by = administrator(tenant)
    return _view(notify().change_opt_out(tenant, channel, address, lambda o: o.refuse(body["kinds"], f"api:{by}")))


@blp.route("/<channel>/<path:address>", methods=["DELETE"])
@blp.response(200, OptOutView)
def opt_in(tenant: str, channel: str, address: str):
    """Opt this address in again, to every kind"""
    by = administrator(tenant)
    return _view(notify().change_opt_out(tenant, channel, address, lambda o: o.accept(by)))
