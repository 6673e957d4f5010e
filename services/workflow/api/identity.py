"""Who is calling: the staff member named in the X-Staff-Id header (authenticated upstream).
Their roles and departments come from the tenant's staff directory, never from the caller."""

from __future__ import annotations

from flask import request

from shared.errors import DomainError

STAFF_HEADER = "X-Staff-Id"


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
