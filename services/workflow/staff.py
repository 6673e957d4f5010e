"""A tenant's staff directory: who works there, their roles, departments and supervisor, and what
assignment (派单) needs to know of them: their site (服务网点), skills, regions, capacity, location,
on-duty shifts, backup and whether they are absent; how to reach them (notify reads that from the
public staff.changed events); and the tenant's sites and time zone.

Handler rules resolve against it (a role's or department's pool, the supervisor of the previous
handler), and an acting staff member's roles come from it, never from the caller.
One aggregate per tenant, its id derived from the tenant name. No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from collections.abc import Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict, Invalid, NotFound
from shared.pertenant import tenant_uuid

from services.workflow.dispatch.profile import DEFAULT_ZONE, Profile, Site

_DIRECTORY_IDS = UUID("2f6c1a9e-8d4b-4e5f-b3a7-91c0d2e4f608")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")  # user ids, roles and departments


NOTIFY_BY = ("wecom", "email")  # the channels a staff member may prefer to be told on
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]+$")


@dataclass(frozen=True)
class Contact:
    """How notify reaches a member: their WeCom userid (their user id when not given), an e-mail
    address, and the channel they prefer (WeCom when not given)."""

    wecom_userid: str | None = None
    email: str | None = None
    notify_by: str | None = None

    def __post_init__(self) -> None:
        if self.email is not None and not _EMAIL.match(self.email):
            raise Invalid(f"not an e-mail address: {self.email!r}")
        if self.wecom_userid is not None and not NAME.match(self.wecom_userid):
            raise Invalid(f"not a WeCom userid: {self.wecom_userid!r}")
        if self.notify_by is not None and self.notify_by not in NOTIFY_BY:
            raise Invalid(f"notify_by is one of {', '.join(NOTIFY_BY)}, not {self.notify_by!r}")
        if self.notify_by == "email" and self.email is None:
            raise Invalid("to be told by e-mail, give an e-mail address")

    def to_dict(self) -> dict[str, str | None]:
        return {"wecom_userid": self.wecom_userid, "email": self.email, "notify_by": self.notify_by}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contact:
        return cls(*(data.get(k) or None for k in ("wecom_userid", "email", "notify_by")))


@dataclass(frozen=True)
class Member:
    user: str
    name: str = ""
    roles: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    supervisor: str | None = None
    profile: Profile = Profile()  # for assignment strategies
    contact: Contact = Contact()  # for notify

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "name": self.name,
            "roles": list(self.roles),
            "departments": list(self.departments),
            "supervisor": self.supervisor,
            **self.profile.to_dict(),
            **self.contact.to_dict(),
        }


@dataclass(frozen=True)
class Directory:
    """The staff of one tenant as a value, for handler resolution and permission checks."""

    members: Mapping[str, Member] = field(default_factory=dict)
    sites: Mapping[str, Site] = field(default_factory=dict)
    time_zone: str = DEFAULT_ZONE  # on-duty shifts are read in it

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", MappingProxyType(dict(self.members)))
        object.__setattr__(self, "sites", MappingProxyType(dict(self.sites)))

    def member(self, user: str) -> Member:
        """Who `user` is; someone not in the directory acts with no roles and no departments."""
        return self.members.get(user) or Member(user)

    def supervisor_of(self, user: str | None) -> str | None:
        return self.members[user].supervisor if user in self.members else None

    def check_handler(self, kind: str, value: str) -> None:
        """Invalid unless a hand-off to this handler reaches someone now: a user in the directory and
        not absent, or a role or department someone holds."""
        if kind == "user":
            member = self.members.get(value)
            if member is None:
                raise Invalid(f"{value!r} is not in the staff directory", handler=value, rule="handler_exists")
            if member.profile.absent:
                raise Invalid(
                    f"{value!r} is absent; hand the ticket to someone at work", handler=value, rule="handler_active"
                )
        elif not self.pool(kind, value):
            raise Invalid(
                f"nobody in the staff directory holds the {kind} {value!r}",
                handler=f"{kind}:{value}",
                rule="handler_exists",
            )

    def pool(self, kind: str, value: str) -> list[str]:
        """The members who hold a role or belong to a department."""
        return sorted(m.user for m in self.members.values() if value in (m.roles if kind == "role" else m.departments))


def directory_id(tenant: str) -> UUID:
    return tenant_uuid(_DIRECTORY_IDS, tenant)


class StaffDirectory(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return directory_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.members: dict[str, Member] = {}
        self.sites: dict[str, Site] = {}
        self.time_zone = DEFAULT_ZONE

    @property
    def directory(self) -> Directory:
        return Directory(self.members, self.sites, self.time_zone)

    def save_member(
        self,
        user: str,
        by: str,
        name: str = "",
        roles: tuple[str, ...] = (),
        departments: tuple[str, ...] = (),
        supervisor: str | None = None,
        profile: Profile = Profile(),
        contact: Contact = Contact(),
    ) -> None:
        bad = [
            n
            for n in (
                user,
                *roles,
                *departments,
                *([supervisor] if supervisor else []),
                *([profile.backup] if profile.backup else []),
            )
            if not NAME.match(n)
        ]
        if bad:
            raise Invalid(f"not a user, role or department name: {', '.join(map(repr, bad))}", names=bad)
        if supervisor is not None:
            self._check_supervisor(user, supervisor)
        if profile.backup == user:
            raise Invalid(f"{user!r} cannot be their own backup")
        self._member_saved(
            tenant=self.tenant,
            user=user,
            name=name,
            roles=sorted(set(roles)),
            departments=sorted(set(departments)),
            supervisor=supervisor,
            by=by,
            profile=profile.to_dict(),
            contact=contact.to_dict(),
        )

    def grant(self, user: str, role: str, by: str) -> None:
        """Give `user` a role, adding them to the directory if they are not in it yet."""
        m = self.members.get(user) or Member(user)
        self.save_member(user, by, m.name, (*m.roles, role), m.departments, m.supervisor, m.profile)

    def _check_supervisor(self, user: str, supervisor: str) -> None:
        if supervisor not in self.members:
            raise Invalid(f"the supervisor {supervisor!r} is not in the directory yet")
        chain, boss = [user], supervisor
        while boss is not None:  # a supervisor chain that comes back to `user` would never end
            if boss in chain:
                raise Invalid(f"{supervisor!r} cannot supervise {user!r}: {' → '.join(chain + [boss])} is a cycle")
            chain.append(boss)
            boss = self.members[boss].supervisor if boss in self.members else None

    class MemberSaved(Aggregate.Event):
        """v2 names the tenant (the event is public: staff.changed) and how notify reaches the member."""

        class_version = 2
        tenant: str | None
        user: str
        name: str
        roles: list[str]
        departments: list[str]
        supervisor: str | None
        by: str
        profile: dict[str, Any] | None
        contact: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Not knowable from the event alone (the directory id is a hash of it): not published.
            state.update(tenant=None, contact=None)
            state.setdefault("profile", None)  # saved before assignment strategies

    @event(MemberSaved)
    def _member_saved(
        self,
        tenant: str | None,
        user: str,
        name: str,
        roles: list[str],
        departments: list[str],
        supervisor: str | None,
        by: str,
        profile: dict[str, Any] | None = None,
        contact: dict[str, Any] | None = None,
    ) -> None:
        self.members[user] = Member(
            user,
            name,
            tuple(roles),
            tuple(departments),
            supervisor,
            Profile.from_dict(profile or {}),
            Contact.from_dict(contact or {}),
        )

    def save_site(self, site: Site, by: str) -> None:
        """A site (服务网点): where technicians work from, the regions it serves, its neighbours."""
        bad = [n for n in (site.key, *site.neighbours) if not NAME.match(n)]
        if bad:
            raise Invalid(f"not a site name: {', '.join(map(repr, bad))}", names=bad)
        if site.key in site.neighbours:
            raise Invalid(f"site {site.key!r} cannot neighbour itself")
        self._site_saved(site=site.to_dict(), by=by)

    @event("SiteSaved")
    def _site_saved(self, site: dict[str, Any], by: str) -> None:
        saved = Site.from_dict(site)
        self.sites[saved.key] = saved

    def set_time_zone(self, zone: str, by: str) -> None:
        Profile.check_zone(zone)
        self._time_zone_set(zone=zone, by=by)

    @event("TimeZoneSet")
    def _time_zone_set(self, zone: str, by: str) -> None:
        self.time_zone = zone

    def remove_member(self, user: str, by: str) -> None:
        if user not in self.members:
            raise NotFound(f"{user!r} is not in the directory")
        reports = sorted(m.user for m in self.members.values() if m.supervisor == user)
        if reports:
            raise Conflict(
                f"{user!r} still supervises {', '.join(reports)}; give them another supervisor first", reports=reports
            )
        self._member_removed(tenant=self.tenant, user=user, by=by)

    class MemberRemoved(Aggregate.Event):
        """v2 names the tenant: the event is public (staff.changed)."""

        class_version = 2
        tenant: str | None
        user: str
        by: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant"] = None

    @event(MemberRemoved)
    def _member_removed(self, tenant: str | None, user: str, by: str) -> None:
        del self.members[user]
