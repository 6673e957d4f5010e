"""Who is calling. Until the platform's authentication kernel lands, the staff member named in the
X-Staff-Id header (authenticated upstream), as workflow reads it; this function is the one place that
changes then. Their roles come from notify's copy of the staff directory, never from the caller."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from shared.errors import DomainError, NotAllowed

from services.notify.application import NotifyApplication

STAFF_HEADER = "X-Staff-Id"
ADMIN_ROLE = "admin"


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"


@dataclass(frozen=True)
class Caller:
    tenant: str
    staff_id: str
    roles: tuple[str, ...]


def notify() -> NotifyApplication:
    return current_app.extensions["notify"]


def caller(tenant: str) -> Caller:
    staff = request.headers.get(STAFF_HEADER, "").strip()
    if not staff:
        raise Unauthenticated(f"say who is acting in the {STAFF_HEADER} header")
    roster = notify().roster(tenant)
    member = (roster.members.get(staff) if roster else None) or {}
    return Caller(tenant, staff, tuple(member.get("roles") or ()))


def administrator(tenant: str) -> str:
    """The caller, if they may change the tenant's notify set-up: a member with the admin role once the
    tenant has one (until then it is being set up, as in workflow)."""
    who = caller(tenant)
    roster = notify().roster(tenant)
    if roster and roster.pool(f"role:{ADMIN_ROLE}") and ADMIN_ROLE not in who.roles:
        raise NotAllowed(f"only the tenant's administrators (role {ADMIN_ROLE}) may change notify's set-up",
                         rule="admin")
    return who.staff_id
