"""The tenant's staff directory: members with their roles, departments and supervisor."""

from __future__ import annotations

from flask import Flask, jsonify
from marshmallow import Schema, fields, validate

from shared import web
from shared.errors import NotFound

from services.workflow.api.identity import staff_id
from services.workflow.application import WorkflowApplication

_names = {"load_default": list, "validate": validate.Length(max=50)}


class MemberBody(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=100))
    roles = fields.List(fields.String(), **_names)
    departments = fields.List(fields.String(), **_names)
    supervisor = fields.String(load_default=None, allow_none=True)


class MemberView(MemberBody):
    user = fields.String()


def register(app: Flask, workflow: WorkflowApplication) -> None:
    base, doc = "/v1/tenants/<tenant>/staff", "/v1/tenants/{tenant}/staff"

    @app.get(base)
    def members(tenant: str):
        directory = workflow.staff(tenant)
        return jsonify(staff=[m.to_dict() for _, m in sorted(directory.members.items())])

    web.document(app, "get", doc, "The staff directory", responses={200: MemberView})

    @app.get(base + "/<user>")
    def member(tenant: str, user: str):
        directory = workflow.staff(tenant)
        if user not in directory.members:
            raise NotFound(f"{user!r} is not in the directory")
        return jsonify(directory.members[user].to_dict())

    web.document(app, "get", f"{doc}/{{user}}", "One member", responses={200: MemberView, 404: "Not found"})

    @app.put(base + "/<user>")
    def save_member(tenant: str, user: str):
        by, body = staff_id(), web.json_body(MemberBody())
        workflow.change_staff(tenant, lambda d: d.save_member(
            user, by, body["name"], tuple(body["roles"]), tuple(body["departments"]), body["supervisor"]))
        return jsonify(workflow.staff(tenant).members[user].to_dict())

    web.document(app, "put", f"{doc}/{{user}}", "Add a member or change their roles, departments, supervisor",
                 body=MemberBody, responses={200: MemberView, 400: "Invalid names or a supervisor cycle",
                                             401: "No staff id", 409: "Changed meanwhile"})

    @app.delete(base + "/<user>")
    def remove_member(tenant: str, user: str):
        by = staff_id()
        workflow.change_staff(tenant, lambda d: d.remove_member(user, by))
        return "", 204

    web.document(app, "delete", f"{doc}/{{user}}", "Remove a member",
                 responses={204: "Removed", 401: "No staff id", 404: "Not found", 409: "Still supervises others"})
