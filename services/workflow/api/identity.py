"""Who is calling: the principal the platform's guard authenticated (shared/identity). Roles and
departments for workflow's rules come from the tenant's staff directory, never from the caller."""

from __future__ import annotations

from shared.errors import NotAllowed
from shared.identity.guard import caller


def staff_id() -> str:
    """Who acts: a staff member, or an API key (`api-key:<id>`, which holds no role in the directory)."""
    return caller().subject


def viewer_id() -> str | None:
    """The staff member looking, if a person is."""
    return caller().staff


def administrator() -> str:
    """The caller, if they may change the tenant's set-up (templates, the staff directory, API keys):
    its administrators, and keys with the admin scope."""
    principal = caller()
    if not principal.may("admin"):
        raise NotAllowed("only the tenant's administrators (role admin) may change its set-up", rule="admin")
    return principal.subject
