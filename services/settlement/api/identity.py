"""Who is calling, and what they may see and change.

`caller()` is the one place that reads the caller: the principal the platform's guard authenticated
(shared/identity), a signed-in staff member with their roles or a machine client with its scopes.

The rules: finance and admin (FINANCE_ROLES), and machine clients with the `admin` scope, change the
terms and see every ticket's settlement, statements and stock; any staff member reads the catalogue
(to know the codes) and their own earnings, on a ticket and over a period; nobody else's.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import NotAllowed
from shared.identity.guard import caller as authenticated

FINANCE_ROLES = frozenset({"finance", "admin"})


@dataclass(frozen=True)
class Caller:
    staff: str  # the staff member, or the machine client ("api-key:<id>")
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()  # a machine client's (read, write, admin)

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & FINANCE_ROLES) or "admin" in self.scopes


def caller() -> Caller:
    principal = authenticated()
    return Caller(principal.subject, frozenset(principal.roles), frozenset(principal.scopes))


def finance() -> Caller:
    """The caller, if they hold a finance role: only they set terms and see everyone's money."""
    who = caller()
    if not who.sees_all:
        raise NotAllowed(
            f"only {' or '.join(sorted(FINANCE_ROLES))} may do this", rule="finance", roles=sorted(FINANCE_ROLES)
        )
    return who


def earnings_of(technician: str | None) -> tuple[Caller, str]:
    """The caller and whose earnings they ask for (by default their own): a technician sees only theirs."""
    who = caller()
    wanted = technician or who.staff
    if wanted != who.staff and not who.sees_all:
        raise NotAllowed("a technician sees only their own earnings", rule="own_earnings")
    return who, wanted
