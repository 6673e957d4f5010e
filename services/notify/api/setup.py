"""The tenant's notify set-up: which kinds of message are sent per template and node, their message
templates (Jinja2, sandboxed), quiet hours, the links messages carry, and WeCom groups for pools."""

from marshmallow import Schema, fields, validate

from shared.restapi import Blueprint

from services.notify.api.caller import administrator, caller, notify
from services.notify.kinds import CHANNELS, KINDS
from services.notify.messages import MSGTYPES, MessageTemplate
from services.notify.setup import ANY, QuietHours, Rule

blp = Blueprint(
    "setup", __name__, url_prefix="/v1/tenants/<tenant>/notify", description="What is sent, how it reads, and when"
)
_scope = {"load_default": ANY, "validate": validate.Length(min=1, max=64)}


class Scope(Schema):
    template = fields.String(metadata={"description": "A template key, or * for any"}, **_scope)
    node = fields.String(metadata={"description": "A node key of that template, or * for any"}, **_scope)


class RuleBody(Scope):
    enabled = fields.Boolean(required=True)
    urgent = fields.Boolean(
        load_default=None, allow_none=True, metadata={"description": "Sent in quiet hours too; null: as the kind is"}
    )


class MessageTemplateBody(Scope):
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    body = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    msgtype = fields.String(load_default="text", validate=validate.OneOf(MSGTYPES))
    template_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=128),
        metadata={"description": "Official account: its template id"},
    )
    fields_ = fields.Dict(
        keys=fields.String(validate=validate.Length(max=32)),
        values=fields.String(validate=validate.Length(max=2000)),
        data_key="fields",
        load_default=dict,
        metadata={"description": "Official account: field -> Jinja2 text"},
    )


class QuietHoursBody(Schema):
    start = fields.String(required=True, metadata={"description": "HH:MM local"})
    end = fields.String(required=True, metadata={"description": "HH:MM local; before start: past midnight"})
    zone = fields.String(load_default="Asia/Shanghai")


class LinksBody(Schema):
    staff = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    customer = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class GroupBody(Schema):
    party = fields.String(load_default=None, allow_none=True)
    tag = fields.String(load_default=None, allow_none=True)


class SetupView(Schema):
    kinds = fields.Dict()
    rules = fields.Dict()
    templates = fields.Dict()
    quiet_hours = fields.Dict(allow_none=True)
    links = fields.Dict()
    groups = fields.Dict()


def _view(setup) -> dict:
    return {
        "kinds": {k.key: {"audience": k.audience, "label": k.label, "urgent": k.urgent} for k in KINDS.values()},
        "rules": setup.rules,
        "templates": setup.templates,
        "quiet_hours": setup.quiet,
        "links": setup.links,
        "groups": setup.groups,
    }


def _kind_and_channel(kind: str, channel: str | None = None) -> None:
    from shared.errors import NotFound

    if kind not in KINDS or (channel is not None and channel not in CHANNELS):
        raise NotFound(f"no kind {kind!r}" + (f" or channel {channel!r}" if channel else ""))


@blp.route("/setup")
@blp.response(200, SetupView)
def get_setup(tenant: str):
    """The tenant's set-up, and the kinds of message there are"""
    caller(tenant)
    return _view(notify().setup(tenant))


@blp.route("/rules/<kind>", methods=["PUT"])
@blp.arguments(RuleBody)
@blp.response(200, SetupView)
def put_rule(body: dict, tenant: str, kind: str):
    """Switch a kind of message on or off (and say how urgent it is) for a template and node"""
    _kind_and_channel(kind)
    by = administrator(tenant)
    rule = Rule(body["enabled"], body["urgent"])
    return _view(notify().change_setup(tenant, lambda s: s.set_rule(kind, body["template"], body["node"], rule, by)))


@blp.route("/message-templates/<kind>/<channel>", methods=["PUT"])
@blp.arguments(MessageTemplateBody)
@blp.response(200, SetupView)
def put_message_template(body: dict, tenant: str, kind: str, channel: str):
    """What a kind of message says on a channel, for a template and node (Jinja2, sandboxed)"""
    _kind_and_channel(kind, channel)
    by = administrator(tenant)
    message = MessageTemplate(body["title"], body["body"], body["msgtype"], body["template_id"], body["fields_"])
    return _view(
        notify().change_setup(
            tenant, lambda s: s.set_message_template(kind, channel, body["template"], body["node"], message, by)
        )
    )


@blp.route("/message-templates/<kind>/<channel>", methods=["DELETE"])
@blp.arguments(Scope, location="query")
@blp.response(200, SetupView)
def delete_message_template(query: dict, tenant: str, kind: str, channel: str):
    """Back to the default message"""
    _kind_and_channel(kind, channel)
    by = administrator(tenant)
    return _view(
        notify().change_setup(
            tenant, lambda s: s.remove_message_template(kind, channel, query["template"], query["node"], by)
        )
    )


@blp.route("/quiet-hours", methods=["PUT"])
@blp.arguments(QuietHoursBody)
@blp.response(200, SetupView)
def put_quiet_hours(body: dict, tenant: str):
    """Quiet hours (免打扰): messages that are not urgent wait until they end"""
    by, quiet = administrator(tenant), QuietHours.parse(body["start"], body["end"], body["zone"])
    return _view(notify().change_setup(tenant, lambda s: s.set_quiet_hours(quiet, by)))


@blp.route("/quiet-hours", methods=["DELETE"])
@blp.response(200, SetupView)
def delete_quiet_hours(tenant: str):
    """No quiet hours"""
    by = administrator(tenant)
    return _view(notify().change_setup(tenant, lambda s: s.set_quiet_hours(None, by)))


@blp.route("/links", methods=["PUT"])
@blp.arguments(LinksBody)
@blp.response(200, SetupView)
def put_links(body: dict, tenant: str):
    """The links messages carry: {ticket_id}, {number}, {tenant}; {token} signs a customer's link"""
    by = administrator(tenant)
    return _view(notify().change_setup(tenant, lambda s: s.set_links(body["staff"], body["customer"], by)))


@blp.route("/pool-groups/<pool>", methods=["PUT"])
@blp.arguments(GroupBody)
@blp.response(200, SetupView)
def put_group(body: dict, tenant: str, pool: str):
    """Tell a pool (role:x, department:y) with one WeCom message to a department or tag"""
    by = administrator(tenant)
    return _view(notify().change_setup(tenant, lambda s: s.set_group(pool, body["party"], body["tag"], by)))
