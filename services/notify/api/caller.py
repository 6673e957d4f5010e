"""Who is calling: the principal the platform's guard authenticated (shared/identity). Roles for
notify's rules are the caller's (a token's, or an API key's scope)."""

from __future__ import annotations

from flask import current_app

from shared.errors import NotAllowed
from shared.identity.guard import caller as authenticated
from shared.identity.principal import Principal

from services.notify.application import NotifyApplication


def notify() -> NotifyApplication:
    return current_app.extensions["notify"]


def caller(tenant: str) -> Principal:
    """The caller (the guard has checked they belong to `tenant`)."""
    return authenticated()


def administrator(tenant: str) -> str:
    """The caller, if they may change the tenant's notify set-up: its administrators, and keys with
    the admin scope."""
    principal = authenticated()
    if not principal.may("admin"):
        raise NotAllowed("only the tenant's administrators (role admin) may change notify's set-up", rule="admin")
    return principal.subject


def theirs(deliveries: list[dict]) -> list[dict]:
    """The deliveries the caller may see: administrators and the tenant's systems (API keys) every one, a
    staff member those to them. A customer's address and messages may hold what a template's field rules
    hide from them (a phone, a name)."""
    principal = authenticated()
    if principal.may("admin") or principal.staff is None:
        return deliveries
    return [d for d in deliveries if d["recipient"] == f"staff:{principal.staff}"]
