"""Templates (工单模板): drafts, publication (with every problem listed), versions, copies."""

from __future__ import annotations

from flask import Flask, jsonify
from marshmallow import Schema, fields, validate

from shared import web
from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Invalid

from services.workflow.api.identity import administrator, staff_id
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
    calendar = fields.Raw(metadata={"description": "The business calendar SLA targets count: {timezone, weekdays, "
                                                   "hours, holidays, workdays} or \"24x7\"; default: 09:00–12:00, "
                                                   "13:00–18:00 Monday to Friday in Asia/Shanghai"})
    reopen = fields.Dict(metadata={"description": "Who may reopen a closed ticket and where it goes back to: "
                                                  "{roles (default supervisor, admin), to (a task node)}"})
    priority = fields.Dict(metadata={"description": "Where a ticket's priority (normal, urgent, vip) comes from: "
                                                    "{field, keywords, vip_flag}; defaults priority, 紧急/加急, vip"})


class CopyBody(Schema):
    key = fields.String(**_key)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(metadata={"description": "The version to copy; the latest by default"})
    regions = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                          metadata={"description": "Make the copy a regional variant for these regions"})


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
        rows.append({"key": key, "name": shown.name, "latest_version": latest.version if latest else None,
                     "built_in": False, "draft": key in library.drafts, "variant_of": shown.variant_of,
                     "regions": list(shown.regions)})
    return rows


def register(app: Flask, workflow: WorkflowApplication) -> None:
    base, doc = "/v1/tenants/<tenant>/templates", "/v1/tenants/{tenant}/templates"

    @app.get(base)
    def list_templates(tenant: str):
        return jsonify(templates=_summaries(workflow.library(tenant), workflow.default))

    web.document(app, "get", doc, "The tenant's templates: the built-in default, published ones and drafts",
                 responses={200: TemplateList})

    @app.put(base + "/<key>/draft")
    def save_draft(tenant: str, key: str):
        by, body = administrator(), web.json_body(TemplateBody())
        if body["key"] != key:
            raise Invalid(f"the body's key {body['key']!r} is not {key!r}, the one in the path")
        template = Template.from_dict(body)
        workflow.change_library(tenant, lambda library: library.save_draft(template, by))
        return jsonify(template.to_dict())

    web.document(app, "put", f"{doc}/{{key}}/draft", "Create or update a draft (checked in full when published)",
                 body=TemplateBody, responses={200: TemplateBody, 400: "Malformed", 401: "No staff id", 403: "Not an administrator",
                                               409: "The built-in default, or changed meanwhile"})

    @app.get(base + "/<key>/draft")
    def draft(tenant: str, key: str):
        return jsonify(workflow.library(tenant).draft(key).to_dict())

    web.document(app, "get", f"{doc}/{{key}}/draft", "The draft of a template",
                 responses={200: TemplateBody, 404: "No draft"})

    @app.post(base + "/<key>/publish")
    def publish(tenant: str, key: str):
        by = administrator()
        return jsonify(workflow.change_library(tenant, lambda library: library.publish(key, by)).to_dict()), 201

    web.document(app, "post", f"{doc}/{{key}}/publish", "Publish the draft as the next version",
                 responses={201: TemplateBody, 400: "Not publishable: details.problems lists every problem",
                            401: "No staff id", 403: "Not an administrator", 404: "No draft", 409: "A regional variant overlaps, or changed meanwhile"})

    @app.get(base + "/<key>")
    def latest(tenant: str, key: str):
        return jsonify(workflow.template(tenant, key).to_dict())

    @app.get(base + "/<key>/versions/<int:version>")
    def version(tenant: str, key: str, version: int):
        return jsonify(workflow.template(tenant, key, version).to_dict())

    web.document(app, "get", f"{doc}/{{key}}", "The latest published version",
                 responses={200: TemplateBody, 404: "Not found"})
    web.document(app, "get", f"{doc}/{{key}}/versions/{{version}}", "A published version (kept forever)",
                 responses={200: TemplateBody, 404: "Not found"})

    @app.post(base + "/<key>/copy")
    def copy(tenant: str, key: str):
        by, body = administrator(), web.json_body(CopyBody())
        source = workflow.template(tenant, key, body.get("version"))
        copied = workflow.change_library(tenant, lambda library: library.copy(
            source, body["key"], body["name"], by, tuple(body.get("regions", ()))))
        return jsonify(copied.to_dict()), 201

    web.document(app, "post", f"{doc}/{{key}}/copy",
                 "Copy a published version (or the built-in default) to a new draft, or to a regional variant",
                 body=CopyBody, responses={201: TemplateBody, 401: "No staff id", 403: "Not an administrator", 404: "Not found",
                                           409: "A draft of that key exists"})

    @app.post(base + "/examples")
    def load_examples(tenant: str):
        published = workflow.load_examples(tenant, administrator())
        return jsonify(templates=[{"key": t.key, "version": t.version} for t in published]), 201

    web.document(app, "post", f"{doc}/examples",
                 "Publish the shipped examples (installation, repair, refund) as the tenant's templates",
                 responses={201: "Their keys and new versions", 401: "No staff id", 403: "Not an administrator"})
