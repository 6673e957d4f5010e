"""Customers intake found to be one person and merged, as a follower of its public customer.merged
keeps them (one aggregate per tenant, in the follower's own store): who each merged-away customer is
now, and every identity of the customer who stays. Whoever keeps a customer id (a ticket, an address
book) reads it through this, whichever of the events arrived first. No I/O here."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.pertenant import PerTenant

CHAIN = 100  # merges one after another, never a loop; bounded all the same


class CustomerMerges(PerTenant):
    namespace = UUID("2b7e9c14-6f3a-4d58-91e0-c8a5d3f7b216")

    class Learned(Aggregate.Event):
        merged: str  # the customer merged away
        into: str  # the one who stays
        identities: dict[str, list[str]]  # every identity of the one who stays, after the merge

        def apply(self, merges: CustomerMerges) -> None:
            merges.into[self.merged] = self.into
            merges.identities[self.into] = self.identities

    def __init__(self, tenant: str):
        super().__init__(tenant)
        self.into: dict[str, str] = {}
        self.identities: dict[str, dict[str, list[str]]] = {}  # survivor -> their identities

    def learn(self, merged: dict[str, Any]) -> None:
        """From a customer.merged's data; the same event again changes nothing."""
        into, identities = str(merged["customer_id"]), merged["identities"]
        old = str(merged["merged_customer_id"])
        if self.into.get(old) != into or self.identities.get(into) != identities:
            self.trigger_event(self.Learned, merged=old, into=into, identities=identities)

    def survivor(self, customer_id: str) -> str:
        """Who `customer_id` is now: itself, or the customer it was merged into (through every merge)."""
        for _ in range(CHAIN):
            if customer_id not in self.into:
                break
            customer_id = self.into[customer_id]
        return customer_id

    def known_as(self, customer_id: str) -> list[str]:
        """Every id of the customer `customer_id` is now: theirs, and those merged into them."""
        who = self.survivor(customer_id)
        return [who, *sorted(m for m in self.into if self.survivor(m) == who)]

    def identities_of(self, customer_id: str) -> dict[str, list[str]]:
        """Every identity of the customer `customer_id` is now, as far as merges said ({} if never merged)."""
        return self.identities.get(self.survivor(customer_id), {})
