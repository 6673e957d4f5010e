"""Notify's worker policy: what it learns from other services' public events, and the deliveries they
cause. Pure: it only collects new events into the unit of work (shared/follower.py commits them with
the upstream position). Sending is the sender's job (sending/), outside this transaction."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable
from weakref import WeakKeyDictionary
from uuid import UUID, uuid5

from shared.contracts import Customer as CustomerContract
from shared.envelope import Envelope
from shared.eventstore import UnitOfWork
from shared.merges import CustomerMerges

from services.notify import addresses
from services.notify.addresses import Recipient
from services.notify.audience import TicketAudience, audience_id
from services.notify.config import NotifyConfig
from services.notify.delivery import Delivery, delivery_id
from services.notify.kinds import CUSTOMER, IDENTITY_CHANNELS, KINDS
from services.notify.links import link
from services.notify.messages import MessageTemplate, render
from services.notify.notices import TICKET_EVENTS, Notice, read
from services.notify.optouts import EVERY, OptOut, opt_out_id
from services.notify.roster import Roster, roster_id
from services.notify.setup import DEFAULT_ZONE, NotifySetup, Rule, setup_id

NOWHERE = "none"  # the channel of a delivery to someone notify has no address for: dead-lettered at once
_CAUSES = UUID("0f6a2d93-5c1e-4b87-a3d4-9e2c7b1f6a58")


def cause_of(envelope: Envelope) -> UUID:
    """What caused a delivery: an envelope id is unique within its source only (intake's submission and
    workflow's ticket share the ticket's id, so their first events share an envelope id)."""
    return uuid5(_CAUSES, f"{envelope.source}\x1f{envelope.id}")


def notify_policy(config: NotifyConfig):
    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        if not envelope.tenant:
            return  # published before events named their tenant
        if envelope.type == "staff.changed":
            _own(uow, Roster, roster_id(envelope.tenant), tenant=envelope.tenant).changed(envelope.data)
        elif envelope.type == "customer.opted_out":
            _opted_out(envelope, uow)
        elif envelope.type == "customer.merged":  # the ticket's customer is the survivor, on both's addresses
            merges_id = CustomerMerges.create_id(envelope.tenant)
            _own(uow, CustomerMerges, merges_id, tenant=envelope.tenant).learn(envelope.data)
        elif envelope.type in TICKET_EVENTS:
            Notifying(config, envelope, uow).run()

    return policy


_READ: WeakKeyDictionary[UnitOfWork, dict[UUID, Any]] = WeakKeyDictionary()


def _read(uow: UnitOfWork, id_: UUID) -> Any | None:
    """A tenant-wide aggregate (roster, set-up), read once per batch even when there is none: a
    backlog's every event asks for them."""
    seen = _READ.setdefault(uow, {})
    if id_ not in seen:
        seen[id_] = uow.get(id_)
    return seen[id_]


def _own(uow: UnitOfWork, cls: type, id_: UUID, **created: Any) -> Any:
    found = uow.get(id_)
    if found is None:
        found = cls(**created)
        uow.add(found)
    _READ.setdefault(uow, {})[id_] = found
    return found


def _opted_out(envelope: Envelope, uow: UnitOfWork) -> None:
    data = envelope.data
    channel = IDENTITY_CHANNELS.get(data["identity"])
    if channel is not None:
        _own(
            uow,
            OptOut,
            opt_out_id(envelope.tenant, channel, data["value"]),
            tenant=envelope.tenant,
            channel=channel,
            address=data["value"],
        ).refuse([EVERY], source=f"{data['channel']}:{data['message_id']}")


def customer_of(data: dict[str, Any]) -> dict[str, Any]:
    """What ticket.created says of the customer, as notify keeps it."""
    given = data["customer"]
    identities = {
        k: str(given[k]).replace(" ", "").replace("-", "") if k == "phone" else given[k]
        for k in CustomerContract.IDENTITIES
        if given.get(k)
    }
    return {
        "customer_id": data.get("customer_id"),
        "name": given.get("name", ""),
        "channel": data["channel"],
        "identities": identities,
    }


class Notifying:
    """One ticket event: update what notify knows of the ticket, request a delivery per recipient."""

    def __init__(self, config: NotifyConfig, envelope: Envelope, uow: UnitOfWork):
        self.config, self.envelope, self.uow = config, envelope, uow
        self.cause = cause_of(envelope)
        self.tenant = envelope.tenant
        self.audience: TicketAudience = _own(
            uow, TicketAudience, audience_id(envelope.subject), tenant=self.tenant, ticket_id=envelope.subject
        )
        self.roster: Roster | None = _read(uow, roster_id(self.tenant))
        self.setup: NotifySetup | None = _read(uow, setup_id(self.tenant))
        self.merges: CustomerMerges | None = _read(uow, CustomerMerges.create_id(self.tenant))

    def run(self) -> None:
        if self.audience.seen(self.cause):
            return  # redelivered or replayed: noticed before
        if self.envelope.type == "ticket.created":
            self.audience.know_customer(customer_of(self.envelope.data))
        quiet = self.setup.quiet_hours if self.setup else None
        reading = read(self.envelope, self.audience, self.roster, quiet.zone if quiet else DEFAULT_ZONE)
        if reading.template:
            self.audience.follow(reading.template, {}, {})
        requested = [d for notice in reading.notices for d in self.request(notice, self.cause)]
        self.audience.follow(reading.template, reading.handlers, reading.entering)
        self.audience.noticed_by(self.cause, requested)
        if self.audience.customer is not None:
            for held in list(self.audience.held):  # customer notices that came before the customer
                notice = Notice(held["kind"], (CUSTOMER,), held["context"], held["node"])
                self.audience.release(held, self.request(notice, UUID(held["cause"])))

    def request(self, notice: Notice, cause: UUID) -> list[UUID]:
        template = self.audience.template
        rule = self.setup.rule(notice.kind, template, notice.node) if self.setup else Rule()
        if not rule.enabled:
            return []
        if CUSTOMER in notice.recipients and self.audience.customer is None:
            self.audience.hold(
                {"cause": str(cause), "kind": notice.kind, "context": notice.context, "node": notice.node}
            )
            return []
        recipients = {r.key: r for r in self.recipients(notice)}
        return [self.deliver(notice, cause, r) for r in recipients.values()]

    def recipients(self, notice: Notice) -> list[Recipient]:
        found = []
        for who in notice.recipients:
            if who == CUSTOMER:
                found.append(addresses.customer(self.audience.customer, self.merges, self.refusing(notice.kind)))
            elif ":" in who:
                found += addresses.pool(who, self.roster, self.setup)
            else:
                found.append(addresses.staff(who, self.roster))
        return found

    def refusing(self, kind: str) -> Callable[[str, str], bool]:
        """Whether an address opted out of `kind` (asked only of addresses a merge adds: the sender checks
        every delivery's own)."""

        def refuses(channel: str, address: str) -> bool:
            opt_out = _read(self.uow, opt_out_id(self.tenant, channel, address))
            return opt_out is not None and opt_out.refuses(kind)

        return refuses

    def deliver(self, notice: Notice, cause: UUID, recipient: Recipient) -> UUID:
        channel, address = recipient.chain[0] if recipient.chain else (NOWHERE, "")
        id_ = delivery_id(cause, recipient.key, channel)
        if self.uow.exists(id_):
            return id_
        template, audience = self.audience.template, KINDS[notice.kind].audience
        context = {**notice.context, "name": recipient.name}
        delivery = Delivery.request(
            tenant=self.tenant,
            ticket_id=self.envelope.subject,
            cause=cause,
            kind=notice.kind,
            recipient=recipient.key,
            name=recipient.name,
            channel=channel,
            address=address,
            message=self.render(notice.kind, channel, template, notice.node, context, audience),
            context=context,
            template=template,
            node=notice.node,
            urgent=self.setup.urgent(notice.kind, template, notice.node) if self.setup else KINDS[notice.kind].urgent,
            fallback=recipient.chain[1:],
            fallback_of=None,
            due=self.envelope.time,
            correlation_id=self.envelope.correlation_id,
        )
        if channel == NOWHERE:
            delivery.failed(
                "没有可用的联系方式（渠道地址）",
                permanent=True,
                now=self.envelope.time,
                jitter=0.0,
                retries=self.config.retries,
            )
        self.uow.add(delivery)
        return id_

    def render(
        self, kind: str, channel: str, template: str | None, node: str | None, context: dict[str, Any], audience: str
    ) -> dict[str, Any]:
        return message_for(
            self.config,
            self.setup,
            self.tenant,
            self.envelope.subject,
            kind,
            channel,
            template,
            node,
            context,
            audience,
        )


def message_for(
    config: NotifyConfig,
    setup: NotifySetup | None,
    tenant: str,
    ticket_id: UUID,
    kind: str,
    channel: str,
    template: str | None,
    node: str | None,
    context: dict[str, Any],
    audience: str,
) -> dict[str, Any]:
    """The message rendered for `channel` from the tenant's message template (or the default)."""
    pattern = (setup.links.get(audience) if setup else None) or (
        config.customer_link if audience == CUSTOMER else config.staff_link
    )
    to_ticket = link(pattern, config.link_key, tenant, ticket_id, context.get("number", ""))
    spec = setup.message_template(kind, channel, template, node) if setup else MessageTemplate()
    return render(kind, spec, context, to_ticket)
