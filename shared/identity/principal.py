"""Who is calling, once their credential has been checked."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("read", "write", "admin")  # each includes the ones before it
ADMIN_ROLE = "admin"


def scopes_of_roles(roles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Staff read and act; a tenant's administrators also change its set-up."""
    return SCOPES if ADMIN_ROLE in roles else SCOPES[:2]


def implied(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A scope grants the ones below it: an admin key may also write and read."""
    top = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)
    return SCOPES[: top + 1]


@dataclass(frozen=True)
class Principal:
    tenant: str
    subject: str  # the staff id, or "api-key:<key id>"
    kind: str  # "staff", "api_key" or "proxy"
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    @property
    def staff(self) -> str | None:
        """The staff member acting, if a person is (an API key is not one)."""
        return self.subject if self.kind in ("staff", "proxy") else None

    def may(self, scope: str) -> bool:
        return scope in self.scopes
