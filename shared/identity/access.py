"""Which tenants exist and which API keys each has: workflow keeps the record and publishes it;
every other service keeps its own copy, fed by those public events, to check keys locally.

One class for both: in workflow a tenant's `TenantAccess` is changed by its administrators; in
the others the same changes are applied from the envelopes (`access_policy`), so every service
answers a key or a tenant the way workflow does, as soon as it has read the event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.envelope import Envelope
from shared.errors import Invalid, NotFound
from shared.identity import apikeys
from shared.identity.principal import SCOPES, Principal, implied
from shared.pertenant import tenant_uuid

_IDS = UUID("9d3c1f0e-7b2a-4c55-8e61-2a4f0b9c7d13")
KEY_NAME = 64


def access_id(tenant: str) -> UUID:
    return tenant_uuid(_IDS, tenant)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scope: str  # the highest it grants: read, write or admin
    digest: str
    issued_by: str
    revoked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "scope": self.scope,
            "issued_by": self.issued_by,
            "revoked": self.revoked,
        }


class TenantAccess(Aggregate):
    """A tenant, from the moment it was created, and every API key it was issued (revoked ones too)."""

    @staticmethod
    def create_id(tenant: str, name: str, created_by: str) -> UUID:
        return access_id(tenant)

    @event("Created")
    def __init__(self, tenant: str, name: str, created_by: str):
        self.tenant = tenant
        self.name = name
        self.keys: dict[str, ApiKey] = {}

    def issue_key(self, key_id: str, name: str, scope: str, key_digest: str, by: str) -> None:
        if not name or len(name) > KEY_NAME:
            raise Invalid(f"name the key (1 to {KEY_NAME} characters): who or what uses it")
        if scope not in SCOPES:
            raise Invalid(f"a key's scope is one of {', '.join(SCOPES)}")
        if key_id not in self.keys:
            self._issued(tenant=self.tenant, key_id=key_id, name=name, scope=scope, digest=key_digest, by=by)

    @event("KeyIssued")
    def _issued(self, tenant: str, key_id: str, name: str, scope: str, digest: str, by: str) -> None:
        self.keys[key_id] = ApiKey(key_id, name, scope, digest, by)

    def revoke_key(self, key_id: str, by: str) -> None:
        found = self.keys.get(key_id)
        if found is None:
            raise NotFound(f"no key {key_id!r}")
        if not found.revoked:
            self._revoked(tenant=self.tenant, key_id=key_id, by=by)

    @event("KeyRevoked")
    def _revoked(self, tenant: str, key_id: str, by: str) -> None:
        self.keys[key_id] = replace(self.keys[key_id], revoked=True)

    def admit(self, key: str) -> Principal | None:
        """The caller holding `key`, if it is one of this tenant's keys and not revoked."""
        found = self.keys.get(apikeys.key_id_of(key))
        expected = found.digest if found is not None and not found.revoked else None
        if not apikeys.matches(expected, key):
            return None
        return Principal(
            tenant=self.tenant, subject=f"api-key:{found.key_id}", kind="api_key", scopes=implied([found.scope])
        )


def access_policy(envelope: Envelope, uow: Any) -> None:
    """A follower's copy of workflow's record, from its public events (each applied once)."""
    if envelope.type not in ("tenant.created", "api_key.issued", "api_key.revoked"):
        return
    data = envelope.data
    access = uow.get(access_id(envelope.tenant))
    if envelope.type == "tenant.created":
        if access is None:
            uow.add(TenantAccess(tenant=envelope.tenant, name=data["name"], created_by=data["by"]))
    elif access is not None and envelope.type == "api_key.issued":
        access.issue_key(data["key_id"], data["name"], data["scope"], data["digest"], data["by"])
    elif access is not None and data["key_id"] in access.keys:
        access.revoke_key(data["key_id"], data["by"])


def lookup_in(app: Any) -> Callable[[str], TenantAccess | None]:
    """A tenant's access record in a service's own store (a copy, refreshed when it changed)."""
    return lambda tenant: app.current(access_id(tenant), tenant)
