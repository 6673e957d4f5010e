"""A tenant's API keys for the REST API (the console, the chat sidebar, other systems). No I/O here.

A key is shown once, when it is issued: the store keeps only its SHA-256, so a copy of the
store does not let anyone call the API. The key names its id (`scrm_<id>_<secret>`), so
checking one costs one constant-time comparison with that key's digest.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from hashlib import sha256
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid, NotFound

_KEY_RING_IDS = UUID("e2b85f19-0c6d-47a3-9f41-5d8a6c3b7e12")
PREFIX = "scrm"
_NOBODY = sha256(b"no such key").hexdigest()  # compared against when the key id is unknown


def key_ring_id(tenant: str) -> UUID:
    return uuid5(_KEY_RING_IDS, tenant)


def digest(key: str) -> str:
    return sha256(key.encode()).hexdigest()


def compose(key_id: str, secret: str) -> str:
    return f"{PREFIX}_{key_id}_{secret}"


def key_id_of(key: str) -> str:
    prefix, _, rest = key.partition("_")
    return rest.partition("_")[0] if prefix == PREFIX else ""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    digest: str
    issued_at: datetime
    revoked: bool = False

    def to_dict(self) -> dict[str, str | bool]:
        return {"key_id": self.key_id, "name": self.name, "issued_at": self.issued_at.isoformat(),
                "revoked": self.revoked}


class KeyRing(Aggregate):
    """Every API key a tenant was issued, revoked ones included (who had access, when)."""

    class Issued(Aggregate.Event):
        key_id: str
        name: str
        digest: str  # SHA-256 of the key, never the key

        def apply(self, ring: KeyRing) -> None:
            ring.keys[self.key_id] = ApiKey(self.key_id, self.name, self.digest, self.timestamp)

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return key_ring_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.keys: dict[str, ApiKey] = {}

    def issue(self, key_id: str, name: str, key: str) -> None:
        if not name or len(name) > 64:
            raise Invalid("name the key (1 to 64 characters): who or what uses it")
        if key_id in self.keys or key_id_of(key) != key_id:
            raise Invalid("a new key needs a new id")
        self.trigger_event(self.Issued, key_id=key_id, name=name, digest=digest(key))

    def revoke(self, key_id: str) -> None:
        found = self.keys.get(key_id)
        if found is None:
            raise NotFound(f"no key {key_id!r}")
        if not found.revoked:
            self._revoked(key_id=key_id)

    @event("Revoked")
    def _revoked(self, key_id: str) -> None:
        self.keys[key_id] = replace(self.keys[key_id], revoked=True)

    def admits(self, key: str) -> bool:
        found = self.keys.get(key_id_of(key))
        expected = found.digest if found is not None and not found.revoked else _NOBODY
        # Always one comparison, so the time taken does not tell which keys exist.
        return hmac.compare_digest(expected, digest(key)) and expected != _NOBODY
