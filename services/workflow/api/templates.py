"""Templates (工单模板): drafts, publication (with every problem listed), versions, copies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Invalid
from shared.restapi import Blueprint

from services.workflow.api.identity import administrator
from services.workflow.application import WorkflowApplication
from services.workflow.library import TemplateLibrary
from services.workflow.templates.model import Template

_key = {"required": True, "validate": validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")}


class TemplateBody(Schema):
    """A template as JSON (see services/workflow/templates/examples/*.json)."""

    key = fields.String(**_key)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    fields_ = fields.List(fields.Dict(), data_key="fields", attribute="fields", load_default=list)
    nodes = fields.List(fields.Dict(), required=True)
    transitions = fields.List(fields.Dict(), load_default=list)
    variant_of = fields.String(metadata={"description": "A regional variant of this template key …"})
    regions = fields.List(fields.String(), metadata={"description": "… for tickets in these regions"})
    version = fields.Integer(metadata={"description": "Ignored: publishing numbers versions"})
    calendar = fields.Raw(
        metadata={
            "description": "The business calendar SLA targets count: {timezone, weekdays, "
            'hours, holidays, workdays} or "24x7"; default: 09:00–12:00, '
            "13:00–18:00 Monday to Friday in Asia/Shanghai"
        }
    )
    reopen = fields.Dict(
        metadata={
            "description": "Who may reopen a closed ticket and where it goes back to: "
            "{roles (default supervisor, admin), to (a task node)}"
        }
    )
    priority = fields.Dict(
        metadata={
            "description": "Where a ticket's priority (normal, urgent, vip) comes from: "
            "{field, keywords, vip_flag}; defaults priority, 紧急/加急, vip"
        }
    )


class CopyBody(Schema):
    key = fields.String(**_key)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(metadata={"description": "The version to copy; the latest by default"})
    regions = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        metadata={"description": "Make the copy a regional variant for these regions"},
    )


class TemplateSummary(Schema):
    key = fields.String()
    name = fields.String()
    latest_version = fields.Integer(allow_none=True, metadata={"description": "None: only a draft so far"})
    built_in = fields.Boolean()
    draft = fields.Boolean()
    variant_of = fields.String(allow_none=True)
    regions = fields.List(fields.String())


class TemplateList(Schema):
    templates = fields.List(fields.Nested(TemplateSummary))


def _summaries(library: TemplateLibrary, default: Template) -> list[dict]:
    keys = sorted(set(library.catalogue.published) | set(library.drafts))
    rows = [{"key": DEFAULT_TEMPLATE, "name": default.name, "latest_version": 1, "built_in": True, "draft": False}]
    for key in keys:
        latest = library.catalogue.published.get(key, (None,))[-1]
        shown = latest or library.draft(key)
        rows.append(
            {
                "key": key,
                "name": shown.name,
                "latest_version": latest.version if latest else None,
                "built_in": False,
                "draft": key in library.drafts,
                "variant_of": shown.variant_of,
                "regions": list(shown.regions),
            }
        )
    return rows


class Published(Schema):
    key = fields.String()
    version = fields.Integer()


class PublishedList(Schema):
    templates = fields.List(fields.Nested(Published))


ADMINISTRATORS = {403: "Not an administrator"}


def blueprints(workflow: WorkflowApplication) -> list[Blueprint]:
    blp = Blueprint(
        "templates",
        __name__,
        url_prefix="/v1/tenants/<tenant>/templates",
        description="Templates (工单模板): drafts, publication, versions, copies",
    )

    @blp.route("", methods=["GET"])
    @blp.response(200, TemplateList)
    def list_templates(tenant: str):
        """The tenant's templates: the built-in default, published ones and drafts"""
        return {"templates": _summaries(workflow.library(tenant), workflow.default)}

    @blp.route("/<key>/draft", methods=["PUT"])
    @blp.arguments(TemplateBody)
    @blp.response(200, TemplateBody)
    @blp.refuses(
        {
            400: "Malformed, or the body's key is not the path's",
            **ADMINISTRATORS,
            409: "The built-in default, or changed meanwhile",
        }
    )
    def save_draft(body: dict, tenant: str, key: str):
        """Create or update a draft (checked in full when published)"""
        by = administrator()
        if body["key"] != key:
            raise Invalid(f"the body's key {body['key']!r} is not {key!r}, the one in the path")
        template = Template.from_dict(body)
        workflow.change_library(tenant, lambda library: library.save_draft(template, by))
        return template.to_dict()

    @blp.route("/<key>/draft", methods=["GET"])
    @blp.response(200, TemplateBody)
    @blp.refuses({404: "No draft"})
    def draft(tenant: str, key: str):
        """The draft of a template"""
        return workflow.library(tenant).draft(key).to_dict()

    @blp.route("/<key>/publish", methods=["POST"])
    @blp.response(201, TemplateBody)
    @blp.refuses(
        {
            400: "Not publishable: details.problems lists every problem",
            **ADMINISTRATORS,
            404: "No draft",
            409: "A regional variant overlaps, or changed meanwhile",
        }
    )
    def publish(tenant: str, key: str):
        """Publish the draft as the next version"""
        by = administrator()
        return workflow.change_library(tenant, lambda library: library.publish(key, by)).to_dict()

    @blp.route("/<key>", methods=["GET"])
    @blp.response(200, TemplateBody)
    @blp.refuses({404: "No such template"})
    def latest(tenant: str, key: str):
        """The latest published version"""
        return workflow.template(tenant, key).to_dict()

    @blp.route("/<key>/versions/<int:version>", methods=["GET"])
    @blp.response(200, TemplateBody)
    @blp.refuses({404: "No such template or version"})
    def version(tenant: str, key: str, version: int):
        """A published version (kept forever)"""
        return workflow.template(tenant, key, version).to_dict()

    @blp.route("/<key>/copy", methods=["POST"])
    @blp.arguments(CopyBody)
    @blp.response(201, TemplateBody)
    @blp.refuses({**ADMINISTRATORS, 404: "No such template or version", 409: "A draft of that key exists"})
    def copy(body: dict, tenant: str, key: str):
        """Copy a published version (or the built-in default) to a new draft, or to a regional variant"""
        by = administrator()
        source = workflow.template(tenant, key, body.get("version"))
        return workflow.change_library(
            tenant, lambda library: library.copy(source, body["key"], body["name"], by, tuple(body.get("regions", ())))
        ).to_dict()

    @blp.route("/examples", methods=["POST"])
    @blp.response(201, PublishedList)
    @blp.refuses({**ADMINISTRATORS, 409: "Changed meanwhile; try again"})
    def load_examples(tenant: str):
        """Publish the shipped examples (installation, repair, refund) as the tenant's templates"""
        published = workflow.load_examples(tenant, administrator())
        return {"templates": [{"key": t.key, "version": t.version} for t in published]}

    return [blp]
