"""The tenant's staff directory: members with their roles, departments, supervisor and what assignment
needs to know of them; the tenant's sites (服务网点) and time zone; and its live load."""

from __future__ import annotations

from flask import Flask, jsonify
from marshmallow import Schema, fields, validate

from shared import web
from shared.errors import NotFound

from services.workflow.api.identity import administrator, staff_id
from services.workflow.application import WorkflowApplication
from services.workflow.dispatch.profile import Profile, Site
from services.workflow.staff import NOTIFY_BY, Contact

_names = {"load_default": list, "validate": validate.Length(max=50)}


class Location(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    address = fields.String(validate=validate.Length(max=200))


class ShiftBody(Schema):
    from_ = fields.String(required=True, data_key="from", attribute="from", metadata={"description": "HH:MM local"})
    to = fields.String(required=True, metadata={"description": "HH:MM local; before `from`: a night shift"})
    days = fields.List(fields.Integer(validate=validate.Range(1, 7)), metadata={"description": "ISO weekdays"})


class MemberBody(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=100))
    roles = fields.List(fields.String(), **_names)
    departments = fields.List(fields.String(), **_names)
    supervisor = fields.String(load_default=None, allow_none=True)
    site = fields.String(load_default=None, allow_none=True, metadata={"description": "The site they work from"})
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=50)), **_names)
    regions = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                          metadata={"description": "The regions they serve; none: any"}, **_names)
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 10000),
                              metadata={"description": "Open tickets they handle at once"})
    location = fields.Nested(Location, load_default=None, allow_none=True)
    shifts = fields.List(fields.Nested(ShiftBody), metadata={"description": "On-duty shifts; none: always"},
                         **_names)
    backup = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "Takes their tickets when they are absent or full"})
    absent = fields.Boolean(load_default=False)
    wecom_userid = fields.String(load_default=None, allow_none=True,
                                 metadata={"description": "Their WeCom userid, for notify; default: their user id"})
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=320),
                          metadata={"description": "For notify's e-mail channel"})
    notify_by = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(NOTIFY_BY),
                              metadata={"description": "The channel they prefer; default: wecom"})


class MemberView(MemberBody):
    user = fields.String()


class StaffView(Schema):
    staff = fields.List(fields.Nested(MemberView))


class SiteBody(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=100))
    location = fields.Nested(Location, load_default=None, allow_none=True)
    regions = fields.List(fields.String(validate=validate.Length(min=1, max=100)), **_names)
    neighbours = fields.List(fields.String(), metadata={"description": "Where tickets overflow, in this order"},
                             **_names)


class SiteView(SiteBody):
    key = fields.String()


class SitesView(Schema):
    sites = fields.List(fields.Nested(SiteView))
    time_zone = fields.String()


class TimeZoneBody(Schema):
    time_zone = fields.String(required=True, metadata={"description": "IANA name, e.g. Asia/Shanghai"})


class LoadView(Schema):
    user = fields.String()
    open = fields.Integer(metadata={"description": "Open tickets they handle"})
    capacity = fields.Integer()
    last_assigned = fields.String(allow_none=True)


class WorkloadView(Schema):
    workload = fields.List(fields.Nested(LoadView))


def _profile(body: dict) -> Profile:
    return Profile.from_dict({k: body[k] for k in ("site", "skills", "regions", "capacity", "location",
                                                    "shifts", "backup", "absent")})


def register(app: Flask, workflow: WorkflowApplication) -> None:
    base, doc = "/v1/tenants/<tenant>/staff", "/v1/tenants/{tenant}/staff"

    @app.get(base)
    def members(tenant: str):
        directory = workflow.staff(tenant)
        return jsonify(staff=[m.to_dict() for _, m in sorted(directory.members.items())])

    web.document(app, "get", doc, "The staff directory", responses={200: StaffView})

    @app.get(base + "/<user>")
    def member(tenant: str, user: str):
        directory = workflow.staff(tenant)
        if user not in directory.members:
            raise NotFound(f"{user!r} is not in the directory")
        return jsonify(directory.members[user].to_dict())

    web.document(app, "get", f"{doc}/{{user}}", "One member", responses={200: MemberView, 404: "Not found"})

    @app.put(base + "/<user>")
    def save_member(tenant: str, user: str):
        by, body = administrator(), web.json_body(MemberBody())
        profile, contact = _profile(body), Contact.from_dict(body)
        workflow.change_staff(tenant, lambda d: d.save_member(
            user, by, body["name"], tuple(body["roles"]), tuple(body["departments"]), body["supervisor"], profile,
            contact))
        return jsonify(workflow.staff(tenant).members[user].to_dict())

    web.document(app, "put", f"{doc}/{{user}}", "Add a member or change their roles, departments, supervisor, "
                 "site, skills, regions, capacity, location, shifts, backup, absence, how notify reaches them",
                 body=MemberBody, responses={200: MemberView, 400: "Invalid names or a supervisor cycle",
                                             401: "No staff id", 403: "Not an administrator", 409: "Changed meanwhile"})

    @app.delete(base + "/<user>")
    def remove_member(tenant: str, user: str):
        by = administrator()
        workflow.change_staff(tenant, lambda d: d.remove_member(user, by))
        return "", 204

    web.document(app, "delete", f"{doc}/{{user}}", "Remove a member",
                 responses={204: "Removed", 401: "No staff id", 403: "Not an administrator", 404: "Not found", 409: "Still supervises others"})

    sites, sites_doc = "/v1/tenants/<tenant>/sites", "/v1/tenants/{tenant}/sites"

    @app.get(sites)
    def list_sites(tenant: str):
        directory = workflow.staff(tenant)
        return jsonify(sites=[s.to_dict() for _, s in sorted(directory.sites.items())], time_zone=directory.time_zone)

    web.document(app, "get", sites_doc, "The sites (服务网点) and the tenant's time zone", responses={200: SitesView})

    @app.put(sites + "/<site>")
    def save_site(tenant: str, site: str):
        by, body = administrator(), web.json_body(SiteBody())
        saved = Site.from_dict({"key": site, **body})
        workflow.change_staff(tenant, lambda d: d.save_site(saved, by))
        return jsonify(workflow.staff(tenant).sites[site].to_dict())

    web.document(app, "put", f"{sites_doc}/{{site}}", "Add or change a site: location, regions served, neighbours",
                 body=SiteBody, responses={200: SiteView, 400: "Invalid", 401: "No staff id", 403: "Not an administrator", 409: "Changed meanwhile"})

    @app.put("/v1/tenants/<tenant>/time-zone")
    def set_time_zone(tenant: str):
        by, body = administrator(), web.json_body(TimeZoneBody())
        workflow.change_staff(tenant, lambda d: d.set_time_zone(body["time_zone"], by))
        return jsonify(time_zone=workflow.staff(tenant).time_zone)

    web.document(app, "put", "/v1/tenants/{tenant}/time-zone", "The time zone on-duty shifts are read in",
                 body=TimeZoneBody, responses={200: TimeZoneBody, 400: "Not a time zone", 401: "No staff id", 403: "Not an administrator"})

    @app.get("/v1/tenants/<tenant>/workload")
    def workload(tenant: str):
        load, directory = workflow.load(tenant), workflow.staff(tenant)
        users = sorted(set(load.open) | set(load.last) | set(directory.members))
        return jsonify(workload=[{
            "user": u, "open": load.of(u), "capacity": directory.member(u).profile.capacity,
            "last_assigned": load.last[u].isoformat(timespec="milliseconds") if u in load.last else None}
            for u in users])

    web.document(app, "get", "/v1/tenants/{tenant}/workload",
                 "Live load per handler (folded from ticket events): what assignment strategies see",
                 responses={200: WorkloadView})
