"""Every route of every app is closed unless it says otherwise.

Before any view runs, the caller is authenticated from one of:
- `Authorization: Bearer <token>`: a staff token signed by workflow (`tokens`);
- `Authorization: Bearer <API key>`: one of the path's tenant's keys (`access`);
- the session cookie a browser got at sign-in, with the CSRF token in `X-CSRF-Token` for anything
  but a read (the token's `csrf` claim: a page of another site can send the cookie, not read it);
- a trusted proxy (off unless SCRM_TRUSTED_PROXY_SECRET is set) that presents that secret and names
  the staff member and roles in headers.
No credential, or a bad one: 401. A credential of another tenant than the path's, or a tenant that
does not exist: 404, the answer for a missing record, so no one learns which tenants exist.
Reading needs the `read` scope, anything else `write`; a view may ask for more (`requires`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from flask import Flask, current_app, g, jsonify, request

from eventsourcing.persistence import PersistenceError

from shared.errors import DomainError, NotAllowed, NotFound, Unavailable
from shared.identity import apikeys
from shared.identity.access import TenantAccess
from shared.identity.principal import Principal, scopes_of_roles
from shared.identity.tokens import InvalidToken, KeySet, principal_of

SESSION_COOKIE = "scrm_session"
CSRF_HEADER = "X-CSRF-Token"
PROXY_SECRET_HEADER = "X-Proxy-Secret"
READS = ("GET", "HEAD", "OPTIONS")
STORE_FAILURES = (PersistenceError, OSError)  # the store, not the caller

Lookup = Callable[[str], TenantAccess | None]  # tenant -> its access record, None if it does not exist


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"

    def __init__(self, message: str = "sign in, or send an API key of this tenant: Authorization: Bearer <key>"):
        super().__init__(message)


@dataclass(frozen=True)
class Identity:
    """What an app needs to check callers: the token keys, the tenants' access records, and
    whether a trusted proxy may name the caller."""

    keys: KeySet
    lookup: Lookup
    proxy_secret: str | None = None


def public(view: Callable) -> Callable:
    """Open to anyone: health, metrics, documents, and routes with a check of their own (a channel's
    signature, an H5 form's token), which must answer a tenant that does not exist as it answers any
    other failure."""
    view.public = True  # type: ignore[attr-defined]
    return view


def requires(scope: str) -> Callable[[Callable], Callable]:
    """A view that needs more than its method implies (e.g. `admin` to change a tenant's set-up)."""

    def mark(view: Callable) -> Callable:
        view.scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def caller() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def protect(app: Flask, identity: Identity) -> None:
    """Authenticate every request to `app` before its view runs (see the module's rules)."""
    known: set[str] = set()  # tenants seen to exist: they never stop existing

    def tenant_exists(tenant: str) -> bool:
        if tenant not in known and _look_up(identity, tenant) is not None:
            known.add(tenant)
        return tenant in known

    @app.before_request
    def authenticate() -> None:
        view = app.view_functions.get(request.endpoint or "")
        tenant = (request.view_args or {}).get("tenant")
        if view is None:
            return  # no such route: Flask answers 404
        if getattr(view, "public", False):
            return  # its own check answers an unknown tenant like any other failure (no tenant is revealed)
        principal = _authenticate(identity, tenant)
        if tenant is not None and (principal.tenant != tenant or not tenant_exists(tenant)):
            raise NotFound("not found")
        needed = getattr(view, "scope", "read" if request.method in READS else "write")
        if not principal.may(needed):
            raise NotAllowed(f"this needs the {needed!r} scope", rule="scope")
        g.principal = principal

    @app.get("/v1/tenants/<tenant>/whoami")
    def whoami(tenant: str):
        """Who this service takes the caller to be (to check a credential)."""
        p = caller()
        return jsonify(tenant=p.tenant, subject=p.subject, kind=p.kind, roles=list(p.roles), scopes=list(p.scopes))


def _look_up(identity: Identity, tenant: str) -> TenantAccess | None:
    """The tenant's access record, read within the app's request deadline where it has one: a
    stopped database must not hold a request before its view even starts."""
    deadline = current_app.extensions.get("deadline")
    try:
        return deadline.run(lambda: identity.lookup(tenant)) if deadline else identity.lookup(tenant)
    except STORE_FAILURES:
        raise Unavailable("credentials cannot be checked right now; try again shortly") from None


def _authenticate(identity: Identity, tenant: str | None) -> Principal:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        if apikeys.looks_like_key(credential):
            access = _look_up(identity, tenant) if tenant else None
            admitted = access.admit(credential) if access is not None else None
            if admitted is None:
                raise Unauthenticated("this API key is not valid here (revoked, or another tenant's)")
            return admitted
        g.claims = _claims(identity, credential)
        return principal_of(g.claims)
    if identity.proxy_secret and PROXY_SECRET_HEADER in request.headers:
        return _from_proxy(identity.proxy_secret, tenant)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        claims = g.claims = _claims(identity, cookie)
        expected = str(claims.get("csrf") or "")
        if request.method not in READS and not (
            expected and hmac.compare_digest(expected, request.headers.get(CSRF_HEADER, ""))
        ):
            raise NotAllowed(f"send the session's CSRF token in {CSRF_HEADER}", rule="csrf")
        return principal_of(claims)
    raise Unauthenticated()


def _claims(identity: Identity, token: str) -> dict[str, Any]:
    try:
        return identity.keys.verify(token)
    except InvalidToken as error:
        raise Unauthenticated(f"the token is not valid: {error}") from None


def _from_proxy(secret: str, tenant: str | None) -> Principal:
    if not hmac.compare_digest(request.headers.get(PROXY_SECRET_HEADER, ""), secret):
        raise Unauthenticated("the proxy's secret is wrong")
    staff = request.headers.get("X-Staff-Id", "").strip()
    if not staff or not tenant:
        raise Unauthenticated("a trusted proxy names the staff member (X-Staff-Id) on a tenant's path")
    roles = tuple(r.strip() for r in request.headers.get("X-Staff-Roles", "").split(",") if r.strip())
    return Principal(tenant=tenant, subject=staff, kind="proxy", roles=roles, scopes=scopes_of_roles(roles))


def identity_for(settings, lookup: Lookup) -> Identity:
    """The checks of a service's app, from the platform's settings."""
    return Identity(KeySet.load(settings.token_keys_file), lookup, settings.trusted_proxy_secret)
