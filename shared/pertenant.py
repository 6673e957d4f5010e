"""One aggregate of a kind per tenant (a tenant's settings, directory, library …).

Its id is derived from the tenant, so any process finds it without a look-up table and two
processes creating it at once collide on the id instead of making two. A subclass names its
own `namespace` (a fixed UUID: its ids must never change when the class moves) and, if it
keeps state, sets it up in a plain `__init__` that calls this one.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event


@lru_cache(maxsize=4096)
def tenant_uuid(namespace: UUID, tenant: str) -> UUID:
    """The id of the tenant's one aggregate of a kind. Asked for several times per request (a SHA-1 each):
    remembered."""
    return uuid5(namespace, tenant)


class PerTenant(Aggregate):
    namespace = UUID(int=0)  # each subclass sets its own

    @classmethod
    def create_id(cls, tenant: str) -> UUID:
        return tenant_uuid(cls.namespace, tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
