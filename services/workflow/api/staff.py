"""The tenant's staff directory: members with their roles, departments, supervisor and what assignment
needs to know of them; the tenant's sites (服务网点) and time zone; and its live load."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.errors import NotFound
from shared.restapi import Blueprint

from services.workflow.api.identity import administrator
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
    regions = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        metadata={"description": "The regions they serve; none: any"},
        **_names,
    )
    capacity = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(0, 10000),
        metadata={"description": "Open tickets they handle at once"},
    )
    location = fields.Nested(Location, load_default=None, allow_none=True)
    shifts = fields.List(fields.Nested(ShiftBody), metadata={"description": "On-duty shifts; none: always"}, **_names)
    backup = fields.String(
        load_default=None, allow_none=True, metadata={"description": "Takes their tickets when they are absent or full"}
    )
    absent = fields.Boolean(load_default=False)
    wecom_userid = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Their WeCom userid, for notify; default: their user id"},
    )
    email = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=320),
        metadata={"description": "For notify's e-mail channel"},
    )
    notify_by = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(NOTIFY_BY),
        metadata={"description": "The channel they prefer; default: wecom"},
    )


class MemberView(MemberBody):
    user = fields.String()


class StaffView(Schema):
    staff = fields.List(fields.Nested(MemberView))


class SiteBody(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=100))
    location = fields.Nested(Location, load_default=None, allow_none=True)
    regions = fields.List(fields.String(validate=validate.Length(min=1, max=100)), **_names)
    neighbours = fields.List(
        fields.String(), metadata={"description": "Where tickets overflow, in this order"}, **_names
    )


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
    return Profile.from_dict(
        {k: body[k] for k in ("site", "skills", "regions", "capacity", "location", "shifts", "backup", "absent")}
    )


ADMINISTRATORS = {403: "Not an administrator", 409: "Changed meanwhile; try again"}


def blueprints(workflow: WorkflowApplication) -> list[Blueprint]:
    return [_staff(workflow), _sites(workflow), _workload(workflow)]


def _staff(workflow: WorkflowApplication) -> Blueprint:
    blp = Blueprint(
        "staff",
        __name__,
        url_prefix="/v1/tenants/<tenant>/staff",
        description="The staff directory: roles, departments, supervisors, how assignment sees them",
    )

    @blp.route("", methods=["GET"])
    @blp.response(200, StaffView)
    def members(tenant: str):
        """The staff directory"""
        directory = workflow.staff(tenant)
        return {"staff": [m.to_dict() for _, m in sorted(directory.members.items())]}

    @blp.route("/<user>", methods=["GET"])
    @blp.response(200, MemberView)
    @blp.refuses({404: "Not in the directory"})
    def member(tenant: str, user: str):
        """One member"""
        directory = workflow.staff(tenant)
        if user not in directory.members:
            raise NotFound(f"{user!r} is not in the directory")
        return directory.members[user].to_dict()

    @blp.route("/<user>", methods=["PUT"])
    @blp.arguments(MemberBody)
    @blp.response(200, MemberView)
    @blp.refuses({400: "Invalid fields, names or a supervisor cycle", **ADMINISTRATORS})
    def save_member(body: dict, tenant: str, user: str):
        """Add a member or change their roles, departments, supervisor, site, skills, regions, capacity, location,
        shifts, backup, absence, how notify reaches them"""
        by = administrator()
        profile, contact = _profile(body), Contact.from_dict(body)
        workflow.change_staff(
            tenant,
            lambda d: d.save_member(
                user,
                by,
                body["name"],
                tuple(body["roles"]),
                tuple(body["departments"]),
                body["supervisor"],
                profile,
                contact,
            ),
        )
        return workflow.staff(tenant).members[user].to_dict()

    @blp.route("/<user>", methods=["DELETE"])
    @blp.response(204, description="Removed")
    @blp.refuses({404: "Not in the directory", **ADMINISTRATORS, 409: "Still supervises others, or changed meanwhile"})
    def remove_member(tenant: str, user: str):
        """Remove a member"""
        by = administrator()
        workflow.change_staff(tenant, lambda d: d.remove_member(user, by))

    return blp


def _sites(workflow: WorkflowApplication) -> Blueprint:
    blp = Blueprint(
        "sites",
        __name__,
        url_prefix="/v1/tenants/<tenant>",
        description="Sites (服务网点) and the time zone on-duty shifts are read in",
    )

    @blp.route("/sites", methods=["GET"])
    @blp.response(200, SitesView)
    def list_sites(tenant: str):
        """The sites (服务网点) and the tenant's time zone"""
        directory = workflow.staff(tenant)
        return {"sites": [s.to_dict() for _, s in sorted(directory.sites.items())], "time_zone": directory.time_zone}

    @blp.route("/sites/<site>", methods=["PUT"])
    @blp.arguments(SiteBody)
    @blp.response(200, SiteView)
    @blp.refuses({400: "Invalid fields, or an unknown neighbour", **ADMINISTRATORS})
    def save_site(body: dict, tenant: str, site: str):
        """Add or change a site: location, regions served, neighbours"""
        by = administrator()
        saved = Site.from_dict({"key": site, **body})
        workflow.change_staff(tenant, lambda d: d.save_site(saved, by))
        return workflow.staff(tenant).sites[site].to_dict()

    @blp.route("/time-zone", methods=["PUT"])
    @blp.arguments(TimeZoneBody)
    @blp.response(200, TimeZoneBody)
    @blp.refuses({400: "Not a time zone", **ADMINISTRATORS})
    def set_time_zone(body: dict, tenant: str):
        """The time zone on-duty shifts are read in"""
        by = administrator()
        workflow.change_staff(tenant, lambda d: d.set_time_zone(body["time_zone"], by))
        return {"time_zone": workflow.staff(tenant).time_zone}

    return blp


def _workload(workflow: WorkflowApplication) -> Blueprint:
    blp = Blueprint("workload", __name__, description="Live load per handler")

    @blp.route("/v1/tenants/<tenant>/workload", methods=["GET"])
    @blp.response(200, WorkloadView)
    def workload(tenant: str):
        """Live load per handler (folded from ticket events): what assignment strategies see"""
        load, directory = workflow.load(tenant), workflow.staff(tenant)
        users = sorted(set(load.open) | set(load.last) | set(directory.members))
        return {
            "workload": [
                {
                    "user": u,
                    "open": load.of(u),
                    "capacity": directory.member(u).profile.capacity,
                    "last_assigned": load.last[u].isoformat(timespec="milliseconds") if u in load.last else None,
                }
                for u in users
            ]
        }

    return blp
