"""The customer directory's commands and queries, on intake's store.

Every write that may race another (two first contacts of one person, a message and the
worker recording a ticket's status on the same customer) is retried from a fresh read when
the store refuses it: the claim or version it relied on was taken meanwhile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeVar
from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.errors import Invalid, NotFound, Unavailable
from shared.eventstore import IntegrityError, ServiceApplication

from services.intake.customers import Customer, IdentityClaim, claim_id, current, identities_of, normalised, profile_of
from services.intake.flags import CustomerFlags, flags_id, holding
from services.intake.regions import RegionNames, locate, region_names_id

RETRIES = 8  # attempts after a race before answering 503
MAX_CACHED = 100_000  # identities whose owner a process remembers
NAMES_FRESH = 10.0  # seconds a tenant's place names are used before they are read again
T = TypeVar("T")


@dataclass
class Contact:
    """Who a request is from: their customer id, the customer when it had to be read or
    created, the identities it claims anew (or moves to them), the customers merged into them and
    the flags those merges moved."""

    customer_id: UUID
    customer: Customer | None
    claims: list[IdentityClaim] = field(default_factory=list)
    first: bool = False  # their first contact: the customer is created with it
    merged: list[Customer] = field(default_factory=list)
    flags: list[CustomerFlags] = field(default_factory=list)

    def aggregates(self) -> list[Aggregate]:
        customer = [self.customer] if self.customer is not None else []
        return [*self.claims, *customer, *self.merged, *self.flags]


def retrying(attempt: Callable[[], T]) -> T:
    for _ in range(RETRIES):
        try:
            return attempt()
        except IntegrityError:
            continue  # a claim or a version was taken meanwhile: read again
    raise Unavailable("the customer kept changing while this was recorded; try again")


class CustomerDirectory:
    def __init__(self, app: ServiceApplication, clock: Callable[[], float] = time.monotonic):
        self._app = app
        self._clock = clock
        # Claims never change once made, so who owns an identity is cached for good: a returning
        # customer's submission then reads nothing before its commit.
        self._owners: dict[tuple[str, str, str], UUID] = {}
        self._names: dict[str, tuple[float, dict[str, str]]] = {}  # tenant -> (read at, place names)

    # --- finding and creating -----------------------------------------------------------

    def contact(self, tenant: str, channel: str, data: dict[str, Any], read: bool = False) -> Contact:
        """The customer the identities in `data` belong to, created at the first contact. The
        existing customer is read only when needed: to add an identity to it, to merge another
        customer into it (its identities name two), or if `read`."""
        identities = identities_of(data)
        if not identities:
            raise Invalid("name the customer by at least one identity (phone, openid, unionid, ...)")
        owners = {identity: self._owner(tenant, *identity) for identity in identities}
        unclaimed = [identity for identity, owner in owners.items() if owner is None]
        known = next((owner for owner in owners.values() if owner is not None), None)  # MATCH_ORDER decides
        others = {owner for owner in owners.values() if owner not in (None, known)}
        if known is None:
            customer = Customer.register(tenant, channel, identities, profile_of(data))
        elif unclaimed or read or others:
            customer = current(self._app.repository.get, known)
            for kind, value in unclaimed:
                customer.add_identity(kind, value)
        else:
            customer = None
        customer_id = customer.id if customer is not None else known
        claims = [
            IdentityClaim(tenant=tenant, kind=kind, value=value, customer_id=customer_id) for kind, value in unclaimed
        ]
        contact = Contact(customer_id, customer, claims, first=known is None)
        for other in others:
            self._merge(contact, current(self._app.repository.get, other), by=channel)
        return contact

    def _merge(self, contact: Contact, other: Customer, by: str) -> None:
        """`other` is the same person as the contact's customer: it is merged in, its claims moved."""
        if other.id == contact.customer_id:
            return  # merged before
        contact.customer.absorb(other, by)
        contact.merged.append(other)
        self._merge_flags(contact, other.id, by)
        for kind, values in other.identities.items():
            for value in values:
                claim = self._app.repository.get(claim_id(other.tenant, kind, value))
                claim.move(contact.customer_id)
                contact.claims.append(claim)

    def _merge_flags(self, contact: Contact, other: UUID, by: str) -> None:
        """The survivor takes in the other's flags; the other's say whose hold now (always written: a
        process that still names the other finds the survivor's)."""
        tenant = contact.customer.tenant
        theirs = self._flags_of(tenant, other)
        if theirs.flags:
            taken = {f.id: f for f in contact.flags}  # a third customer merged in this same request
            mine = taken.get(flags_id(tenant, contact.customer_id)) or self._flags_of(tenant, contact.customer_id)
            mine.set([*mine.flags, *theirs.flags], by)
            if mine.id not in taken:
                contact.flags.append(mine)
        theirs.moved_to(contact.customer_id)
        contact.flags.append(theirs)

    def _flags_of(self, tenant: str, customer_id: UUID) -> CustomerFlags:
        """The customer's own flags, to change (created on first use)."""
        found = self._app.find(flags_id(tenant, customer_id), tenant, CustomerFlags)
        return found or CustomerFlags(tenant=tenant, customer_id=customer_id)

    def flags(self, tenant: str, customer_id: UUID) -> list[str]:
        """The customer's flags as they hold now (one indexed read while they stay as they were)."""
        found = holding(lambda id_: self._app.current(id_, tenant, CustomerFlags), tenant, customer_id)
        return list(found.flags) if found is not None else []

    def set_flags(self, tenant: str, customer_id: UUID, flags: list[str], by: str) -> Customer:
        """Staff mark the customer (or the one they were merged into) as `flags` (all of them)."""

        def attempt() -> Customer:
            customer = self.get(tenant, customer_id)
            marked = self._flags_of(tenant, customer.id)
            marked.set(flags, by)
            self._app.save(marked)
            return customer

        return retrying(attempt)

    def _owner(self, tenant: str, kind: str, value: str) -> UUID | None:
        key = (tenant, kind, value)
        if key not in self._owners:
            claim = self._app.find(claim_id(tenant, kind, value), tenant, IdentityClaim)
            if claim is None:
                return None
            self._learned(key, claim.customer_id)
        return self._owners[key]

    def _learned(self, key: tuple[str, str, str], owner: UUID) -> None:
        if len(self._owners) >= MAX_CACHED:
            self._owners.clear()
        self._owners[key] = owner

    def remember(self, contact: Contact) -> None:
        """Once its claims are committed: whose identities they are."""
        for claim in contact.claims:
            self._learned((claim.tenant, claim.kind, claim.value), claim.customer_id)

    def _place_names(self, tenant: str) -> dict[str, str]:
        """The tenant's place names, read again after NAMES_FRESH seconds: an operator's change
        applies within that time, and a submission with an address reads nothing in between."""
        read_at, names = self._names.get(tenant, (None, {}))
        if read_at is None or self._clock() - read_at > NAMES_FRESH:
            found = self._app.current(region_names_id(tenant), tenant, RegionNames)
            names = dict(found.names) if found is not None else {}
            self._names[tenant] = (self._clock(), names)
        return names

    def register(self, tenant: str, channel: str, data: dict[str, Any]) -> Contact:
        """Make sure the person is in the directory (a subscribe, the console)."""

        def attempt() -> Contact:
            contact = self.contact(tenant, channel, data, read=True)
            contact.customer.update_profile(profile_of(data))
            self._app.save(*contact.aggregates())
            self.remember(contact)
            return contact

        return retrying(attempt)

    def region(self, tenant: str, data: dict[str, Any], customer: Customer | None) -> str | None:
        """From the request's address, else the customer's, else the last location they sent."""
        names = self._place_names(tenant)
        texts = [data.get("address")]
        if customer is not None:
            texts += [customer.profile.get("address"), customer.last_location]
        return next((found for text in texts if (found := locate(text, names))), None)

    # --- reading ---------------------------------------------------------------------

    def get(self, tenant: str, customer_id: UUID) -> Customer:
        """The customer, or the one it was merged into."""
        found = self._app.find(customer_id, tenant, Customer)
        if found is None:
            raise NotFound("no such customer")
        return current(self._app.repository.get, found.id) if found.merged_into else found

    def by_identity(self, tenant: str, kind: str, value: str) -> Customer:
        owner = self._owner(tenant, kind, normalised(kind, value))
        if owner is None:
            raise NotFound("no customer has this identity")
        return self.get(tenant, owner)

    # --- what they send, what is sold to them ----------------------------------------------

    def receive(
        self, tenant: str, channel: str, sender: dict[str, str], record: Callable[[Customer], UUID | None]
    ) -> UUID | None:
        """Record an image, a location or a text from `sender` on their customer (created if new);
        the ticket it went to, None when they have no open ticket (an image or location is kept)."""

        def attempt() -> UUID | None:
            contact = self.contact(tenant, channel, sender, read=True)
            ticket_id = record(contact.customer)
            self._app.save(*contact.aggregates())
            self.remember(contact)
            return ticket_id

        return retrying(attempt)

    def opt_out(self, tenant: str, channel: str, identity: str, value: str, message_id: str) -> Contact:
        """They asked to be told nothing more on `channel` (created in the directory if new)."""

        def attempt() -> Contact:
            contact = self.contact(tenant, channel, {identity: value}, read=True)
            contact.customer.opt_out(channel, identity, normalised(identity, value), message_id)
            self._app.save(*contact.aggregates())
            self.remember(contact)
            return contact

        return retrying(attempt)

    def change(self, tenant: str, customer_id: UUID, change: Callable[[Customer], T]) -> tuple[Customer, T]:
        def attempt() -> tuple[Customer, T]:
            customer = self.get(tenant, customer_id)
            result = change(customer)
            self._app.save(customer)
            return customer, result

        return retrying(attempt)
