"""Who is calling, and what they may see and change.

`caller()` is the one place that reads the caller from the request: today the X-Staff-Id and
X-Staff-Roles headers, set by whatever authenticated the staff member upstream (as workflow trusts
X-Staff-Id, and as the identity kernel's trusted proxy names them). When the kernel's guard is on
every request, only this function changes: it turns the guard's principal into a Caller.

The rules: finance and admin (FINANCE_ROLES), and machine clients with the `admin` scope, change the
terms and see every ticket's settlement, statements and stock; any staff member reads the catalogue
(to know the codes) and their own earnings, on a ticket and over a period; nobody else's.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from shared.errors import DomainError, NotAllowed

STAFF_HEADER = "X-Staff-Id"
ROLES_HEADER = "X-Staff-Roles"  # comma-separated
FINANCE_ROLES = frozenset({"finance", "admin"})


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"


@dataclass(frozen=True)
class Caller:
    staff: str  # the staff member, or the machine client ("api-key:<id>")
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()  # a machine client's (read, write, admin)

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & FINANCE_ROLES) or "admin" in self.scopes


def caller() -> Caller:
    staff = request.headers.get(STAFF_HEADER, "").strip()
    if not staff:
        raise Unauthenticated(f"say who is asking in the {STAFF_HEADER} header")
    roles = frozenset(r.strip() for r in request.headers.get(ROLES_HEADER, "").split(",") if r.strip())
    return Caller(staff, roles)


def finance() -> Caller:
    """The caller, if they hold a finance role: only they set terms and see everyone's money."""
    who = caller()
    if not who.sees_all:
        raise NotAllowed(f"only {' or '.join(sorted(FINANCE_ROLES))} may do this", rule="finance",
                         roles=sorted(FINANCE_ROLES))
    return who


def earnings_of(technician: str | None) -> tuple[Caller, str]:
    """The caller and whose earnings they ask for (by default their own): a technician sees only theirs."""
    who = caller()
    wanted = technician or who.staff
    if wanted != who.staff and not who.sees_all:
        raise NotAllowed("a technician sees only their own earnings", rule="own_earnings")
    return who, wanted
