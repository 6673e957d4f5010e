"""Tenants, and how their staff and machines get in: workflow owns the staff directory, so it
creates tenants with their first administrator, checks passwords and signs the tokens every
service accepts, and issues the tenants' API keys. What the other services need of it (which
tenants exist, which keys are valid) is published: tenant.created, api_key.issued, api_key.revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from collections.abc import Callable
from datetime import datetime, UTC

from shared.errors import Conflict, NotFound
from shared.eventstore import IntegrityError
from shared.identity import apikeys
from shared.identity.access import ApiKey, TenantAccess, access_id
from shared.identity.principal import ADMIN_ROLE, Principal
from shared.identity.tokens import LIFETIME, KeySet

from services.workflow.accounts import Credentials, credentials_id
from services.workflow.application import WorkflowApplication
from services.workflow.staff import StaffDirectory, directory_id

SESSION_MAX_AGE = 12 * 3600  # a signed-in session is refreshed up to this long, then signed in again


class SignInFailed(Exception):
    """Wrong staff id or password (the answer never says which)."""


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str  # a browser sends it back in X-CSRF-Token with anything but a read
    expires_at: datetime
    principal: Principal


class Tenancy:
    def __init__(self, workflow: WorkflowApplication, keys: KeySet):
        self.workflow = workflow
        self.keys = keys

    def access(self, tenant: str) -> TenantAccess | None:
        """Read on every request: a cached copy while it is current."""
        return self.workflow.current(access_id(tenant), tenant)

    def create_tenant(self, tenant: str, name: str, admin: str, password: str, by: str) -> TenantAccess:
        """A new tenant and its first administrator, in one commit. A tenant used before tenants were
        created explicitly keeps its templates, staff and tickets."""
        app = self.workflow
        if app.find(access_id(tenant), tenant) is not None:
            raise Conflict(f"tenant {tenant!r} exists already")
        access = TenantAccess(tenant=tenant, name=name, created_by=by)
        directory = app.find(directory_id(tenant), tenant) or StaffDirectory(tenant=tenant)
        directory.grant(admin, ADMIN_ROLE, by)
        credentials = app.find(credentials_id(tenant), tenant) or Credentials(tenant=tenant)
        credentials.set_password(admin, password, by)
        self._save(access, directory, credentials)
        return access

    def set_password(self, tenant: str, staff: str, password: str, by: str) -> None:
        if staff not in self.workflow.staff(tenant).members:
            raise NotFound(f"{staff!r} is not in the staff directory")
        credentials = self.workflow.find(credentials_id(tenant), tenant) or Credentials(tenant=tenant)
        credentials.set_password(staff, password, by)
        self._save(credentials)

    def set_wecom(self, tenant: str, corp_id: str, secret: str, seal: Callable[[str], str], by: str) -> None:
        """The WeCom corp whose members sign in with WeCom (wecom_sign_in.py)."""
        credentials = self.workflow.find(credentials_id(tenant), tenant) or Credentials(tenant=tenant)
        credentials.set_wecom(corp_id, secret, seal, by)
        self._save(credentials)

    def check_password(self, tenant: str, staff: str, password: str) -> bool:
        credentials = self.workflow.find(credentials_id(tenant), tenant)
        return credentials.check(staff, password) if credentials else Credentials.check_nobody(password)

    def sign_in(self, tenant: str, staff: str, password: str) -> Session:
        member = self.workflow.staff(tenant).members.get(staff)
        if not self.check_password(tenant, staff, password) or member is None or self.access(tenant) is None:
            raise SignInFailed()
        return self.session(Principal(tenant, staff, "staff", member.roles), signed_in=now())

    def session(self, principal: Principal, signed_in: int, csrf: str | None = None) -> Session:
        """A token for `principal` (with the roles the directory gives them now)."""
        csrf = csrf or secrets.token_urlsafe(16)
        lifetime = max(0, min(LIFETIME, signed_in + SESSION_MAX_AGE - now()))
        token = self.keys.sign(principal, lifetime, csrf=csrf, auth_time=signed_in)
        return Session(token, csrf, datetime.fromtimestamp(now() + lifetime, UTC), principal)

    def refresh(self, principal: Principal, claims: dict) -> Session:
        """A new token for a signed-in member still in the directory, with their roles as they are now."""
        member = self.workflow.staff(principal.tenant).members.get(principal.subject)
        signed_in = int(claims.get("auth_time", 0))
        if principal.kind != "staff" or member is None or now() >= signed_in + SESSION_MAX_AGE:
            raise SignInFailed()
        return self.session(
            Principal(principal.tenant, member.user, "staff", member.roles), signed_in, csrf=claims.get("csrf")
        )

    def issue_key(self, tenant: str, name: str, scope: str, by: str) -> tuple[ApiKey, str]:
        """A new API key: the key itself is returned once and never stored."""
        access = self._access(tenant)
        key_id, key = apikeys.new_key()
        access.issue_key(key_id, name, scope, apikeys.digest(key), by)
        self._save(access)
        return access.keys[key_id], key

    def revoke_key(self, tenant: str, key_id: str, by: str) -> ApiKey:
        access = self._access(tenant)
        access.revoke_key(key_id, by)
        self._save(access)
        return access.keys[key_id]

    def _access(self, tenant: str) -> TenantAccess:
        found = self.workflow.find(access_id(tenant), tenant)
        if found is None:
            raise NotFound("not found")
        return found

    def _save(self, *aggregates) -> None:
        try:
            self.workflow.save(*aggregates)
        except IntegrityError:
            raise Conflict("it changed meanwhile; try again") from None


def now() -> int:
    return int(datetime.now(UTC).timestamp())
