"""What staff mark a customer as (VIP …): every ticket they raise carries it, for workflow's priority.
No I/O here.

Kept beside the Customer, in an aggregate of its own whose id derives from the customer's: a submission
reads these few events, never a customer's whole history (a regular's thousands of linked tickets).
When the customer is merged into another, the other's flags take in theirs, and theirs say whose
apply now, so a process that still names the merged-away customer finds the flags that hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid

_IDS = UUID("5d1f7c3a-8e42-4b96-a0c5-2f9e6b1d4a73")
MOST = 20  # flags on one customer


def flags_id(tenant: str, customer_id: UUID) -> UUID:
    return uuid5(_IDS, f"{tenant}\x1f{customer_id}")


class CustomerFlags(Aggregate):
    @staticmethod
    def create_id(tenant: str, customer_id: UUID) -> UUID:
        return flags_id(tenant, customer_id)

    @event("Created")
    def __init__(self, tenant: str, customer_id: UUID):
        self.tenant, self.customer_id = tenant, customer_id
        self.flags: list[str] = []
        self.merged_into: UUID | None = None

    class Set(Aggregate.Event):
        tenant: str
        flags: list[str]  # all of them now
        by: str

    def set(self, flags: Iterable[str], by: str) -> None:
        wanted = sorted(set(flags))
        if len(wanted) > MOST:
            raise Invalid(f"at most {MOST} flags on a customer")
        if wanted != self.flags:
            self._set(tenant=self.tenant, flags=wanted, by=by)

    @event(Set)
    def _set(self, tenant: str, flags: list[str], by: str) -> None:
        self.flags = flags

    class MergedInto(Aggregate.Event):
        tenant: str
        into: UUID

    def moved_to(self, into: UUID) -> None:
        """Their customer was merged into `into`: its flags hold for them from now on."""
        if self.merged_into != into:
            self._merged(tenant=self.tenant, into=into)

    @event(MergedInto)
    def _merged(self, tenant: str, into: UUID) -> None:
        self.merged_into = into


def holding(get: Callable[[UUID], CustomerFlags | None], tenant: str, customer_id: UUID) -> CustomerFlags | None:
    """The flags that hold for `customer_id`: theirs, or those of the customer they were merged into."""
    found = get(flags_id(tenant, customer_id))
    for _ in range(100):  # a chain of merges, never a loop; bounded all the same
        if found is None or found.merged_into is None:
            return found
        found = get(flags_id(tenant, found.merged_into))
    return found
