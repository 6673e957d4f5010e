"""Intake commands and queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Conflict, NotFound, Unavailable
from shared.eventstore import IntegrityError, ServiceApplication
from shared.groupcommit import GroupCommitter
from shared.identity.access import access_id
from shared.metrics import COMMIT_BATCH, COMMIT_SECONDS
from shared.outbox import OutboxRow
from shared.secrets import SecretBox, SecretsUnavailable

from services.intake.directory import CustomerDirectory, retrying
from services.intake.domain import Submission, ticket_id
from services.intake.tenant import ChannelSettings, settings_id
from services.intake.outbox import OUTBOX

COMMIT_TIMEOUT = 5.0
A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Accepted:
    ticket_id: UUID
    created: bool  # False: the same submission was accepted before


class IntakeApplication(ServiceApplication):
    name = "intake"
    outbox = OUTBOX

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        self._committer = GroupCommitter(self._save_group, on_group=self._observe_group)
        self._settings: dict[str, ChannelSettings] = {}  # tenant -> last read, see channel_settings()
        self.customers = CustomerDirectory(self)
        self.secrets = SecretBox.from_env()  # seals and opens the channels' credentials

    @staticmethod
    def _observe_group(size: int, seconds: float) -> None:
        COMMIT_BATCH.labels("intake").observe(size)
        COMMIT_SECONDS.labels("intake").observe(seconds)

    def _save_group(self, pending: Sequence[tuple[list[StoredEvent], list[OutboxRow]]]) -> None:
        self.recorder.insert_events(
            [stored for events, _ in pending for stored in events], outbox=[row for _, rows in pending for row in rows]
        )

    def submit(
        self,
        tenant: str,
        channel: str,
        submission_id: str,
        customer: dict[str, Any],
        description: str,
        template: str = DEFAULT_TEMPLATE,
        route: dict[str, str] | None = None,
        region: str | None = None,
        values: dict[str, Any] | None = None,
        link_now: bool = False,
    ) -> Accepted:
        """Record a submission durably (grouped with concurrent ones) before returning, linked
        to its customer: a first contact creates the customer in the same transaction. `link_now`
        (a chat message: the sender may send a picture next) records the ticket on the customer in
        that transaction too, instead of leaving it to intake's worker."""
        id_ = ticket_id(tenant, channel, submission_id)

        def attempt() -> Accepted:
            self._committer.check_answering()  # before any read: a stuck store answers 503 at once
            # The customer is read only to add an identity, or for a region the request lacks.
            contact = self.customers.contact(
                tenant, channel, customer, read=link_now or not (region or customer.get("address"))
            )
            where = region or self.customers.region(tenant, customer, contact.customer)
            submission = Submission(
                tenant=tenant,
                channel=channel,
                submission_id=submission_id,
                customer=customer,
                description=description,
                template=template,
                route=route or {"by": "default"},
                values=values or {},
                customer_id=contact.customer_id,
                region=where,
                # A first contact has none yet; a known customer's are read on every submission (a
                # small aggregate of their own), so a VIP flag set a moment ago already counts.
                flags=[] if contact.first else self.customers.flags(tenant, contact.customer_id),
            )
            if link_now:
                contact.customer.link_ticket(submission.id, channel, description, template, where)
            # Serialised here, in the request's own thread, not by whichever thread commits the group.
            stored = self.to_stored(
                [e for aggregate in (*contact.aggregates(), submission) for e in aggregate.collect_events()]
            )
            try:
                self._committer.commit(stored, timeout=COMMIT_TIMEOUT)
            except IntegrityError:
                if self.recorder.select_events(id_, limit=1):
                    return Accepted(id_, created=False)  # the channel retried an accepted submission
                raise  # a concurrent first contact claimed an identity, or the customer changed
            self.customers.remember(contact)
            return Accepted(id_, created=True)

        return retrying(attempt)

    def accepted_before(self, tenant: str, channel: str, submission_id: str) -> bool:
        """Whether this channel's message was recorded as a submission already (the channel retries)."""
        return bool(self.recorder.select_events(ticket_id(tenant, channel, submission_id), limit=1))

    def submission(self, tenant: str, channel: str, submission_id: str) -> Submission:
        return self.get(ticket_id(tenant, channel, submission_id), tenant)

    def get(self, id_: UUID, tenant: str) -> Submission:
        found = self.find(id_, tenant, Submission)
        if found is None:
            raise NotFound("no such ticket")
        return found

    def tenant_exists(self, tenant: str) -> bool:
        """Whether workflow created `tenant` (intake's copy of its record says so). Tenants are never
        removed: once seen, remembered."""
        known = self.__dict__.setdefault("_tenants", set())
        if tenant not in known and self.current(access_id(tenant), tenant) is not None:
            known.add(tenant)
        return tenant in known

    def channel_settings(self, tenant: str) -> ChannelSettings | None:
        """The tenant's settings, on every callback, their secrets opened: a cached copy while its version
        is still the stored one (one indexed read of the last event), so a change made by an operator
        from another process applies to the next request."""
        id_ = settings_id(tenant)
        last = self.recorder.select_events(id_, desc=True, limit=1)
        if not last:
            return None
        cached = self._settings.get(tenant)
        if cached is None or cached.version != last[0].originator_version:
            try:
                cached = self._settings[tenant] = self.repository.get(id_).opened(self.secrets.open)
            except SecretsUnavailable as e:  # a key dropped too soon, or none configured
                raise Unavailable(f"the tenant's channel credentials cannot be opened: {e}") from None
        return cached

    def configure(self, tenant: str, change: Callable[[ChannelSettings], None]) -> ChannelSettings:
        """Apply an operator's change to the tenant's settings (created on first use)."""
        return self.administer(ChannelSettings, tenant, change)

    def administer(self, kind: type[A], tenant: str, change: Callable[[A], None]) -> A:
        """Apply an operator's change to one of the tenant's own aggregates (settings, API keys,
        place names: one of each per tenant, its id derived from the tenant), created on first use."""
        found = self.find(kind.create_id(tenant), tenant, kind)
        aggregate = found if found is not None else kind(tenant=tenant)
        change(aggregate)
        try:
            self.save(aggregate)
        except IntegrityError:
            raise Conflict("it changed meanwhile; run the command again") from None
        return aggregate
