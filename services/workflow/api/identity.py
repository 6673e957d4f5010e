"""Who is calling: the staff member named in the X-Staff-Id header (authenticated upstream).
Their roles and departments come from the tenant's staff directory, never from the caller."""

from __future__ import annotations

from flask import request

from shared.errors import DomainError, NotAllowed

from services.workflow.staff import Directory

STAFF_HEADER = "X-Staff-Id"
ADMIN_ROLE = "admin"


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"


def staff_id() -> str:
    staff = viewer_id()
    if staff is None:
        raise Unauthenticated(f"say who is acting in the {STAFF_HEADER} header")
    return staff


def viewer_id() -> str | None:
    """The caller, if they said who they are (reading does not require it)."""
    return request.headers.get(STAFF_HEADER, "").strip() or None


def administrator(directory: Directory) -> str:
    """The caller, if they may change the tenant's set-up (templates, the staff directory):
    members with the admin role. A tenant that has named no administrator yet is being set up,
    and any staff member may do it; naming the first administrator closes that."""
    staff = staff_id()
    if directory.pool("role", ADMIN_ROLE) and ADMIN_ROLE not in directory.member(staff).roles:
        raise NotAllowed(f"only the tenant's administrators (role {ADMIN_ROLE}) may change its set-up",
                         rule="admin")
    return staff
