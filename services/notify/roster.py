"""Who a tenant's staff are and how to reach them, as workflow publishes its staff directory
(staff.changed). Notify keeps its own copy; it never reads workflow's store. No I/O."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.pertenant import tenant_uuid

_IDS = UUID("d5e1f7a2-9c3b-4a06-8e4d-1b7f2c6a9e31")
FIELDS = ("name", "roles", "departments", "supervisor", "wecom_userid", "email", "notify_by")


def roster_id(tenant: str) -> UUID:
    return tenant_uuid(_IDS, tenant)


class Roster(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return roster_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.members: dict[str, dict[str, Any]] = {}

    def changed(self, data: dict[str, Any]) -> None:
        """A staff.changed envelope's data; one arriving again changes nothing."""
        user = data["user"]
        if data["removed"]:
            if user in self.members:
                self._removed(user=user)
            return
        member = {k: data.get(k) for k in FIELDS}
        if self.members.get(user) != member:
            self._saved(user=user, member=member)

    @event("MemberSaved")
    def _saved(self, user: str, member: dict[str, Any]) -> None:
        self.members[user] = member

    @event("MemberRemoved")
    def _removed(self, user: str) -> None:
        del self.members[user]

    def pool(self, handler: str) -> list[str]:
        """The members of a pool handler ("role:x" / "department:y"), by user id."""
        kind, _, value = handler.partition(":")
        field = {"role": "roles", "department": "departments"}.get(kind)
        return sorted(u for u, m in self.members.items() if field and value in (m.get(field) or ()))

    def supervisor_of(self, user: str | None) -> str | None:
        return (self.members.get(user) or {}).get("supervisor") if user else None

    def name_of(self, user: str) -> str:
        return (self.members.get(user) or {}).get("name") or user
